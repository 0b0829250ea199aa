// Running the real `rho-slm` command (src/cli/bin.ts through tsx) in a folder, as a user would.
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const tsx = ['--import', join(root, 'node_modules/tsx/dist/esm/index.mjs')];
const cliArgs = [...tsx, join(root, 'src/cli/bin.ts')];

/**
 * Runs an ES module `script` from the sources under tsx, whose esbuild keeps function names (it
 * wraps named functions in a `__name` helper), and returns its stdout: code whose source runs in
 * worker threads must survive that. `script` imports sources by absolute path (see {@link sourcePath}).
 */
export function runUnderTsx(script: string): string {
  return execFileSync(process.execPath, [...tsx, '--input-type=module', '-e', script], { encoding: 'utf8' });
}

/** The absolute path of a source file, for {@link runUnderTsx}'s imports. */
export function sourcePath(path: string): string {
  return join(root, path);
}

/** What a finished command left: exit code (null when killed by a signal) and output. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `rho-slm <args>` in `cwd`, on the wasm backend unless `args` name one. */
export function startCli(cwd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const backend = args.some((arg) => arg.startsWith('--backend')) ? [] : ['--backend', 'wasm'];
  return spawn(process.execPath, [...cliArgs, ...backend, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
}

/**
 * Runs `rho-slm <args>` in `cwd` to the end. With `interruptWhen`, sends SIGINT once stderr
 * matches it (and `delayMs` milliseconds more), or `signal` instead.
 */
export function runCli(
  cwd: string,
  args: readonly string[],
  options: SpawnOptions & { interruptWhen?: RegExp; delayMs?: number; signal?: 'SIGINT' | 'SIGKILL' } = {},
): Promise<CliResult> {
  const { interruptWhen, delayMs = 0, signal = 'SIGINT', ...spawnOptions } = options;
  return new Promise((resolve) => {
    const child = startCli(cwd, args, spawnOptions);
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      if (interruptWhen !== undefined && !sent && interruptWhen.test(stderr)) {
        sent = true;
        setTimeout(() => child.kill(signal), delayMs);
      }
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The `rho-slm:` error lines of a result's stderr. */
export function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('rho-slm'));
}
