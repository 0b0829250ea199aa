// The bubblewrap sandbox of runPython: which interpreter runs and which of its folders are
// mounted, the bwrap command line, and a probe (once per interpreter and bwrap) that the sandbox
// can be created on this machine.
import { spawn } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Writable } from 'node:stream';
import { SLMError } from '../core/errors.js';
import { seccompFilter } from './seccomp.js';

/** File descriptor (stdio index) of the seccomp filter, read by bwrap. */
export const SECCOMP_FD = 4;

/** The whole environment of a program in the sandbox. */
const SANDBOX_ENVIRONMENT = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

/**
 * The environment of a program run without the sandbox, and of the interpreter when asked for its
 * paths: the caller's `PATH` (to find `python3`) and `LANG`, nothing else.
 */
export function hostEnvironment(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', LANG: 'C.UTF-8' };
}

/** A Python interpreter as it runs inside the sandbox. */
export interface PythonInterpreter {
  /** `sys.executable`: the real interpreter, not a launcher such as pyenv's shim. */
  executable: string;
  /** Folders mounted read-only besides `/usr`: its prefixes and import path outside `/usr`. */
  folders: string[];
}

/** A sandbox that works on this machine: bwrap's path and whether it takes `--size`. */
export interface Sandbox {
  /** The bwrap program. */
  bwrap: string;
  /** The interpreter as seen inside. */
  interpreter: PythonInterpreter;
  /** Whether this bwrap can limit the size of its tmpfs (`--size`, bubblewrap ≥ 0.7). */
  sizedTmpfs: boolean;
  /** The seccomp filter (`undefined` on an architecture without a table). */
  seccomp: Buffer | undefined;
}

/** What one command printed and how it ended; `error` set when it could not start. */
interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: NodeJS.ErrnoException;
}

/**
 * Runs a short command to the end (or for at most 15 s), keeping the first 64 KiB of its output;
 * `seccomp` is written to its fd {@link SECCOMP_FD}.
 */
function finished(command: string, args: string[], seccomp?: Buffer): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: tmpdir(),
      env: hostEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe', 'ignore', seccomp === undefined ? 'ignore' : 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    for (const name of ['stdout', 'stderr'] as const)
      child[name]?.on('data', (chunk: Buffer) => {
        if (output[name].length < 65_536) output[name] += chunk.toString('utf8');
      });
    if (seccomp !== undefined) {
      const filter = child.stdio[SECCOMP_FD] as Writable;
      filter.on('error', () => {});
      filter.end(seccomp);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, ...output, error });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...output });
    });
  });
}

const ASK_PATHS =
  'import json, sys; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix] + sys.path))';

/** Folders that cover `paths`: absolute, not under `/usr`, none inside another. */
function coveringFolders(paths: string[]): string[] {
  const inside = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
  const candidates = [...new Set(paths)]
    .filter((path) => path.startsWith('/') && !inside(path, '/usr'))
    .map((path) => path.replace(/\/+$/, ''))
    .sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const path of candidates) if (!kept.some((folder) => inside(path, folder))) kept.push(path);
  return kept;
}

const interpreters = new Map<string, Promise<PythonInterpreter>>();

/**
 * The real interpreter behind `python` (which may be a launcher such as pyenv's shim) and the
 * folders it needs, asked of it once per process (outside the sandbox, in isolated mode).
 *
 * @throws {@link SLMError} `TOOL_UNAVAILABLE` when `python` cannot be started or is not Python 3
 * @example
 * ```ts
 * const { executable, folders } = await resolveInterpreter('python3');
 * ```
 */
export function resolveInterpreter(python: string): Promise<PythonInterpreter> {
  let known = interpreters.get(python);
  if (known === undefined) {
    known = finished(python, ['-I', '-c', ASK_PATHS]).then(({ code, stdout, stderr, error }) => {
      const paths = code === 0 ? (JSON.parse(stdout) as string[]) : undefined;
      if (paths === undefined || typeof paths[0] !== 'string' || paths[0] === '') {
        throw new SLMError(
          'TOOL_UNAVAILABLE',
          `'runPython' could not start '${python}' (${error?.code ?? error?.message ?? stderr.trim().split('\n').pop() ?? `code ${code}`}): tool-integrated evaluation needs a Python 3 interpreter on PATH, or pass its path as 'python'.`,
        );
      }
      return { executable: paths[0], folders: coveringFolders(paths) };
    });
    known.catch(() => interpreters.delete(python));
    interpreters.set(python, known);
  }
  return known;
}

/** `/bin`, `/lib`… as they are on this machine: a symlink into `/usr` is recreated, a folder bound. */
function rootLinks(): string[] {
  const args: string[] = [];
  for (const name of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    try {
      if (lstatSync(name).isSymbolicLink()) args.push('--symlink', readlinkSync(name), name);
      else args.push('--ro-bind', name, name);
    } catch {
      // absent on this machine
    }
  }
  return args;
}

/**
 * The bwrap arguments that run `command` in the sandbox: new user (uid 65534), mount, PID,
 * network (only a loopback of its own, reaching nothing outside), IPC, UTS and cgroup namespaces;
 * a root with `/usr`, the interpreter's folders and `/etc/ld.so.cache` read-only, a minimal `/dev`,
 * no `/proc`, nothing of the home folder but the empty folders leading to an interpreter inside it;
 * a fresh tmpfs at `/tmp` (`diskBytes` large where bwrap can size it) as working folder; only
 * `PATH=/usr/bin:/bin` and `LANG=C.UTF-8` in the environment; a new session; killed with its
 * parent; the seccomp filter read from fd {@link SECCOMP_FD}.
 *
 * @param sandbox - the probed sandbox
 * @param diskBytes - size of the writable tmpfs
 * @param command - the program and its arguments, as seen inside
 * @example
 * ```ts
 * spawn(sandbox.bwrap, bwrapArguments(sandbox, 64 << 20, [sandbox.interpreter.executable, '-I', '-c', 'pass']));
 * ```
 */
export function bwrapArguments(sandbox: Sandbox, diskBytes: number, command: string[]): string[] {
  const environment = Object.entries(SANDBOX_ENVIRONMENT).flatMap(([name, value]) => [
    '--setenv',
    name,
    value,
  ]);
  return [
    '--unshare-all',
    '--unshare-user',
    '--uid',
    '65534',
    '--gid',
    '65534',
    '--hostname',
    'sandbox',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    ...environment,
    '--ro-bind',
    '/usr',
    '/usr',
    ...rootLinks(),
    '--ro-bind-try',
    '/etc/ld.so.cache',
    '/etc/ld.so.cache',
    ...sandbox.interpreter.folders.flatMap((folder) => ['--ro-bind', folder, folder]),
    '--dev',
    '/dev',
    ...(sandbox.sizedTmpfs ? ['--size', String(diskBytes)] : []),
    '--tmpfs',
    '/tmp',
    '--chdir',
    '/tmp',
    ...(sandbox.seccomp === undefined ? [] : ['--seccomp', String(SECCOMP_FD)]),
    '--',
    ...command,
  ];
}

const INSTALL_HINT =
  "install bubblewrap (Debian/Ubuntu: 'sudo apt-get install bubblewrap'; Fedora: 'sudo dnf install bubblewrap'; Arch: 'sudo pacman -S bubblewrap'), or pass sandbox: 'none' (CLI: --unsafe-no-sandbox) to run model-written programs without isolation";

function unavailable(reason: string): SLMError {
  return new SLMError(
    'SANDBOX_UNAVAILABLE',
    `'runPython' cannot sandbox model-written programs: ${reason}. To run them, ${INSTALL_HINT}.`,
  );
}

const sandboxes = new Map<string, Promise<Sandbox>>();

/**
 * A sandbox for `python` on this machine, probed once per process for each `bwrap` and `python`:
 * bwrap must start, create every namespace and run the interpreter with the full command line.
 *
 * @param bwrap - the bwrap program (a name on PATH or a path)
 * @param python - the interpreter (a name on PATH or a path)
 * @throws {@link SLMError} `SANDBOX_UNAVAILABLE` off Linux, without bwrap, or where the kernel or
 *   container refuses the namespaces (the message says how to install it or opt out)
 * @throws {@link SLMError} `TOOL_UNAVAILABLE` when `python` cannot be started
 * @example
 * ```ts
 * const sandbox = await probeSandbox('bwrap', 'python3');
 * ```
 */
export function probeSandbox(bwrap: string, python: string): Promise<Sandbox> {
  const key = `${bwrap}\u0000${python}`;
  let known = sandboxes.get(key);
  if (known === undefined) {
    known = probe(bwrap, python);
    sandboxes.set(key, known);
  }
  return known;
}

async function probe(bwrap: string, python: string): Promise<Sandbox> {
  const interpreter = await resolveInterpreter(python);
  if (process.platform !== 'linux')
    throw unavailable(`the sandbox needs Linux namespaces (bubblewrap), this is ${process.platform}`);
  const help = await finished(bwrap, ['--help']);
  if (help.error !== undefined)
    throw unavailable(`'${bwrap}' could not be started (${help.error.code ?? help.error.message})`);
  const sandbox: Sandbox = {
    bwrap,
    interpreter,
    sizedTmpfs: help.stdout.includes('--size'),
    seccomp: seccompFilter(process.arch),
  };
  const trial = await finished(
    bwrap,
    bwrapArguments(sandbox, 1 << 20, [interpreter.executable, '-I', '-c', 'import os; os.fork()']),
    sandbox.seccomp,
  );
  const refused = sandbox.seccomp === undefined || trial.stderr.includes('PermissionError');
  if (trial.error !== undefined || !refused) {
    const said = trial.stderr.trim().split('\n').pop() ?? '';
    throw unavailable(
      `'${bwrap}' could not run ${interpreter.executable} in a sandbox (${said || `code ${trial.code}`}; user namespaces may be disabled in this kernel or container)`,
    );
  }
  return sandbox;
}
