// Runs model-written Python in a bubblewrap sandbox (src/eval/sandbox.ts) or, when the caller
// opts out, a plain python3 process, with time, memory, file-size, process and output limits;
// reports like the harness's PythonExecutor, over a channel apart from the program's stdout.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { SLMError } from '../core/errors.js';
import { CHANNEL_FD, RUNNER } from './pythonRunner.js';
import { killMarkedProcesses, RUN_MARKER } from './runMarker.js';
import { bwrapArguments, hostEnvironment, probeSandbox, SECCOMP_FD } from './sandbox.js';

/** How model-written programs are run: in a bubblewrap sandbox, or as plain processes (unsafe). */
export type SandboxMode = 'bwrap' | 'none';

/** Options of {@link runPython}. */
export interface PythonRunOptions {
  /** The interpreter to run (a launcher such as pyenv's shim is resolved to the real one). @default 'python3' */
  python?: string;
  /** Wall-clock limit for one program, start-up included. @default 5000 (the harness's 5 s) */
  timeoutMs?: number;
  /** Address-space limit (RLIMIT_AS) in MiB; 0 for none. @default 1024 */
  memoryMb?: number;
  /** Characters of printed output kept from the start (the last 400 are kept too). @default 100000 */
  maxOutputChars?: number;
  /**
   * An expression evaluated after the program whose value is the result (PAL: `'solution()'`);
   * without it the result is what the program printed (ToRA). */
  answerExpression?: string;
  /**
   * `'bwrap'`: run in a bubblewrap sandbox, and refuse (`SANDBOX_UNAVAILABLE`) where none can be
   * made; `'none'`: run as a plain process with your user's rights (unsafe; warns once per process).
   * @default 'bwrap' */
  sandbox?: SandboxMode;
  /** The bubblewrap program. @default 'bwrap' */
  bwrap?: string;
  /** Size of the writable temporary folder (sandbox) and of any one file (RLIMIT_FSIZE), in MiB. @default 64 */
  diskMb?: number;
  /** Processes and threads (RLIMIT_NPROC) in the sandbox; not enforced for root. @default 256 */
  maxProcesses?: number;
}

/** What one program run gave, as the harness reports it (both stripped, each at most 400 characters). */
export interface PythonRun {
  /** Printed output (ToRA) or the answer expression's value (PAL); `''` after an error. */
  result: string;
  /** `'Done'`, `'Timeout Error'`, or the last line of the traceback (`'ZeroDivisionError: division by zero'`). */
  report: string;
}

/** The harness's truncation: at most 400 characters, the middle replaced by `...`. */
function truncate(text: string): string {
  return text.length > 400 ? `${text.slice(0, 200)}...${text.slice(-200)}` : text;
}

function finish(result: string, report: string): PythonRun {
  return { result: truncate(result.trim()), report: truncate(report.trim()) };
}

/** The runner's report, or `undefined` when the channel holds anything else. */
function parseReport(text: string, nonce: string): PythonRun | undefined {
  try {
    const { result, report, ...rest } = JSON.parse(text) as Partial<Record<string, unknown>>;
    return rest.nonce === nonce && typeof result === 'string' && typeof report === 'string'
      ? finish(result, report)
      : undefined;
  } catch {
    return undefined;
  }
}

let warned = false;

/** Warns once per process that programs run without a sandbox. */
function warnUnsandboxed(): void {
  if (warned) return;
  warned = true;
  process.emitWarning(
    "runPython runs model-written programs without a sandbox (sandbox: 'none'): they can read and write your files, use the network and start processes.",
    { code: 'RHO_SLM_UNSANDBOXED' },
  );
}

/** After the process exits, how long its report may take to arrive (an orphan may hold the channel). */
const DRAIN_MS = 200;

/**
 * Checks once per process that programs can run as `options` ask: the interpreter starts and,
 * unless `sandbox: 'none'`, the sandbox can be created. {@link runPython} does this itself;
 * call it to fail before an evaluation's first generation rather than at its first program.
 *
 * @throws {@link SLMError} `TOOL_UNAVAILABLE` when the interpreter cannot be started;
 *   `SANDBOX_UNAVAILABLE` when no sandbox can be made (off Linux, without bubblewrap, user
 *   namespaces disabled); `BAD_OPTION` for an unknown `sandbox`
 * @example
 * ```ts
 * await checkPythonSandbox();                     // throws SANDBOX_UNAVAILABLE without bwrap
 * await checkPythonSandbox({ sandbox: 'none' });  // only warns
 * ```
 */
export async function checkPythonSandbox(options: PythonRunOptions = {}): Promise<void> {
  const mode = options.sandbox ?? 'bwrap';
  if (mode !== 'bwrap' && mode !== 'none') {
    throw new SLMError(
      'BAD_OPTION',
      `Option 'sandbox' passed to 'runPython' must be 'bwrap' or 'none', got ${JSON.stringify(mode)}.`,
    );
  }
  if (mode === 'none') warnUnsandboxed();
  else await probeSandbox(options.bwrap ?? 'bwrap', options.python ?? 'python3');
}

/**
 * Runs a Python program in a fresh process, by default inside a bubblewrap sandbox: its own user,
 * mount, PID, network (only a loopback of its own), IPC and UTS namespaces; a read-only root holding only
 * `/usr` and the interpreter's folders; an empty size-limited tmpfs as working folder; no other
 * process may be started (seccomp), and when the run ends every process in it is killed. Limits:
 * wall clock, address space (RLIMIT_AS), file size, processes, CPU time, and bounded output
 * capture. The result travels on a pipe apart from stdout, so printing a fake result, closing
 * stdout or `os._exit` give an error report. Errors in the program are results, not exceptions: an
 * infinite loop reports `'Timeout Error'`, an exception its last traceback line, a memory bomb
 * `MemoryError`, and huge output is cut to its first and last characters. A run returns within
 * `timeoutMs` (plus a fraction of a second), whatever the program started. What the sandbox does
 * not isolate (CPU time, kernel bugs): docs/evaluation.md.
 *
 * @throws {@link SLMError} `SANDBOX_UNAVAILABLE` where no sandbox can be made and `sandbox` is not `'none'`
 * @throws {@link SLMError} `TOOL_UNAVAILABLE` when the interpreter cannot be started
 * @throws {@link SLMError} `BAD_OPTION` for a non-positive `timeoutMs`, `diskMb` or `maxProcesses`,
 *   a negative `memoryMb`, `maxOutputChars` < 400, or an unknown `sandbox`
 * @example
 * ```ts
 * await runPython('print(6 * 7)');                                    // { result: '42', report: 'Done' }
 * await runPython('def solution():\n    return 18', { answerExpression: 'solution()' }); // result '18'
 * await runPython('print(1)', { sandbox: 'none' });                   // unsafe: no isolation, warns once
 * ```
 */
export async function runPython(code: string, options: PythonRunOptions = {}): Promise<PythonRun> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const memoryMb = options.memoryMb ?? 1024;
  const maxOutputChars = options.maxOutputChars ?? 100_000;
  const diskMb = options.diskMb ?? 64;
  const maxProcesses = options.maxProcesses ?? 256;
  if (
    !(timeoutMs > 0) ||
    !(memoryMb >= 0) ||
    !(maxOutputChars >= 400) ||
    !(diskMb >= 1) ||
    !(Number.isInteger(maxProcesses) && maxProcesses >= 1)
  ) {
    throw new SLMError(
      'BAD_OPTION',
      `'runPython' needs timeoutMs > 0, memoryMb ≥ 0, maxOutputChars ≥ 400, diskMb ≥ 1 and an integer maxProcesses ≥ 1, got ${timeoutMs}, ${memoryMb}, ${maxOutputChars}, ${diskMb}, ${maxProcesses}.`,
    );
  }
  await checkPythonSandbox(options);
  const python = options.python ?? 'python3';
  const sandboxed = options.sandbox !== 'none';
  const diskBytes = Math.round(diskMb * 1024 * 1024);
  const runnerArgs = [
    '-I',
    '-c',
    RUNNER,
    String(memoryMb * 1024 * 1024),
    String(maxOutputChars),
    options.answerExpression ?? '',
    String(diskBytes),
    String(sandboxed ? maxProcesses : 0), // without a user namespace RLIMIT_NPROC counts all your processes
    String(2 * Math.ceil(timeoutMs / 1000) + 1), // CPU seconds: a backstop if this process dies first
  ];
  const nonce = randomBytes(16).toString('hex'); // the report must carry it; not in the program's scope
  const marker = randomBytes(16).toString('hex'); // in its environment: not the nonce
  const sandbox = sandboxed ? await probeSandbox(options.bwrap ?? 'bwrap', python) : undefined;
  const directory = sandbox === undefined ? await mkdtemp(join(tmpdir(), 'rho-slm-python-')) : tmpdir();
  try {
    return await new Promise<PythonRun>((resolve, reject) => {
      const [command, args] =
        sandbox === undefined
          ? [python, runnerArgs]
          : [
              sandbox.bwrap,
              bwrapArguments(sandbox, diskBytes, [sandbox.interpreter.executable, ...runnerArgs]),
            ];
      const child = spawn(command, args, {
        cwd: directory,
        // Without the sandbox, the marker finds what the program started once the run ends.
        env: sandbox === undefined ? { ...hostEnvironment(), [RUN_MARKER]: marker } : hostEnvironment(),
        detached: true, // its own process group, killed as a whole
        stdio: ['pipe', 'ignore', 'ignore', 'pipe', sandbox?.seccomp === undefined ? 'ignore' : 'pipe'],
      });
      const channel = child.stdio[CHANNEL_FD] as Readable;
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      let drain: NodeJS.Timeout | undefined;
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const settle = (run: PythonRun) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(drain);
        killGroup();
        if (sandbox === undefined) killMarkedProcesses(marker); // what left the process group
        channel.destroy(); // an orphan may still hold its end (without the sandbox)
        resolve(run);
      };
      const timer = setTimeout(() => settle(finish('', 'Timeout Error')), timeoutMs);
      channel.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 8 * maxOutputChars + 65_536) settle(finish('', 'Output Limit Error'));
        else chunks.push(chunk);
      });
      channel.on('error', () => {});
      child.stdin?.on('error', () => {}); // the program may exit before reading all of its code
      child.stdin?.end(`${nonce}\n${code}`);
      if (sandbox?.seccomp !== undefined) {
        const filter = child.stdio[SECCOMP_FD] as Writable;
        filter.on('error', () => {});
        filter.end(sandbox.seccomp);
      }
      child.on('error', (error: NodeJS.ErrnoException) => {
        settled = true;
        clearTimeout(timer);
        const started = sandbox === undefined ? python : sandbox.bwrap;
        reject(
          new SLMError(
            sandbox === undefined ? 'TOOL_UNAVAILABLE' : 'SANDBOX_UNAVAILABLE',
            `'runPython' could not start '${started}' (${error.code ?? error.message}): ${sandbox === undefined ? "tool-integrated evaluation needs a Python 3 interpreter on PATH, or pass its path as 'python'" : 'the sandbox program went away after it was probed'}.`,
          ),
        );
      });
      child.on('exit', (exitCode, signal) => {
        killGroup();
        const report = () => {
          const run = parseReport(Buffer.concat(chunks).toString('utf8'), nonce);
          settle(run ?? finish('', `Exited without a result (${signal ?? `code ${exitCode}`})`));
        };
        if (channel.readableEnded) report();
        else {
          channel.once('end', report);
          drain = setTimeout(report, DRAIN_MS);
        }
      });
    });
  } finally {
    if (sandbox === undefined) await rm(directory, { recursive: true, force: true });
  }
}
