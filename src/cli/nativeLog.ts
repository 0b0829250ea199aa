// TensorFlow's start-up lines. libtensorflow prints them on file descriptor 2 while tfjs-node's
// addon loads ("WARNING: All log messages before absl::InitializeLog() …", "I0000 … oneDNN custom
// operations are on …"); no environment variable silences all of them and Node cannot redirect a
// descriptor in-process. So `rho-slm` runs itself once more as a child whose stderr passes through
// a filter that drops those lines (unless `--verbose`, or where TensorFlow will not load). The
// child's environment can also carry allocator settings TensorFlow and glibc read at start-up
// (`--low-memory`).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** Set in the child's environment: it is the child (and, when above 0, the width of the parent's terminal). */
const FILTERED_ENV = 'RHO_SLM_NATIVE_LOG_FILTERED';

/** Whole lines TensorFlow and absl print at start-up, at the levels shown (info; warnings and errors pass). */
const NATIVE_LINES = [
  /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/,
  /^I\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.-]+:\d+\] /,
  /^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.$/,
];
/** Beginnings of those lines: an unfinished line that could still become one is held back. */
const NATIVE_BEGINNINGS = ['WARNING: All log messages', 'To enable the following instructions'];

/** Whether `line` (without its newline) is one of TensorFlow's start-up lines. */
export function isNativeStartupLine(line: string): boolean {
  return NATIVE_LINES.some((pattern) => pattern.test(line));
}

/** Whether an unfinished line may still turn out to be one of TensorFlow's start-up lines. */
function mayBecomeNativeLine(start: string): boolean {
  return (
    /^I\d{0,4}$/.test(start) ||
    /^I\d{4} /.test(start) ||
    NATIVE_BEGINNINGS.some((beginning) => beginning.startsWith(start) || start.startsWith(beginning))
  );
}

/** A text filter fed in chunks; see {@link createNativeLogFilter}. */
export interface NativeLogFilter {
  /** Filters the next chunk of text. */
  push(text: string): void;
  /** Passes on what is held back (the stream has ended). */
  end(): void;
}

/**
 * A filter that drops TensorFlow's start-up lines and passes everything else on to `write`
 * unchanged, as soon as it can: an unfinished line (a progress bar redrawn with `\r`) is written at
 * once unless it could still become a start-up line.
 *
 * @param write - receives the filtered text
 */
export function createNativeLogFilter(write: (text: string) => void): NativeLogFilter {
  let held = ''; // the start of a line that may still be TensorFlow's
  let passing = false; // the current line was found not to be TensorFlow's and is partly written
  const push = (text: string) => {
    let rest = text;
    while (rest !== '') {
      const newline = rest.indexOf('\n');
      const piece = newline < 0 ? rest : rest.slice(0, newline + 1);
      rest = newline < 0 ? '' : rest.slice(newline + 1);
      if (passing) {
        write(piece);
        passing = newline < 0;
        continue;
      }
      const line = held + piece;
      held = '';
      if (newline >= 0) {
        if (!isNativeStartupLine(line.slice(0, -1))) write(line);
      } else if (mayBecomeNativeLine(line)) held = line;
      else {
        write(line);
        passing = true;
      }
    }
  };
  return {
    push,
    end: () => {
      if (held !== '' && !isNativeStartupLine(held)) write(held);
      held = '';
    },
  };
}

/**
 * What `--low-memory` sets in the environment of the process TensorFlow runs in: TensorFlow's
 * system allocator instead of oneDNN's pooling one, glibc returning every freed block of 1 MB or
 * more to the system, and glibc asking for transparent huge pages for its blocks (fewer page faults
 * when a block is touched again; glibc 2.35 or later, older ones ignore it). TinyLlama-1.1B then
 * trains below PyTorch's memory at about 0.8× its speed (docs/benchmarks.md). Use
 * {@link lowMemoryEnv} to add it to an environment.
 */
export const LOW_MEMORY_ENV: Readonly<Record<string, string>> = {
  TF_ONEDNN_USE_SYSTEM_ALLOCATOR: '1',
  MALLOC_MMAP_THRESHOLD_: '1048576',
  GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
};

/** {@link LOW_MEMORY_ENV} for a process started from `env`: glibc tunables already set there are kept. */
export function lowMemoryEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const tunables = env.GLIBC_TUNABLES;
  return {
    ...LOW_MEMORY_ENV,
    GLIBC_TUNABLES:
      tunables === undefined || tunables === ''
        ? LOW_MEMORY_ENV.GLIBC_TUNABLES!
        : `${tunables}:${LOW_MEMORY_ENV.GLIBC_TUNABLES}`,
  };
}

/** How `rho-slm` runs itself as a child: whether its stderr is filtered, and what its environment adds. */
export interface ChildPlan {
  filter: boolean;
  env: Readonly<Record<string, string>>;
}

/**
 * Whether `rho-slm argv` should run as a child, and how: only where TensorFlow may load (backend
 * `auto` or `tensorflow`, by `--backend` or `RHO_SLM_BACKEND`), not inside a child already, not for
 * help or version, and not on Windows (where signals cannot be passed on). Its stderr is filtered
 * unless `--verbose`; `--low-memory` adds {@link lowMemoryEnv}. `undefined`: run in this process.
 */
export function childPlan(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  platform: string,
): ChildPlan | undefined {
  if (env[FILTERED_ENV] !== undefined || platform === 'win32') return undefined;
  if (argv.length === 0 || argv.some((arg) => ['-h', '--help', '-V', '--version'].includes(arg)))
    return undefined;
  const named = argv.findIndex((arg) => arg === '--backend' || arg.startsWith('--backend='));
  const flag =
    named < 0 ? undefined : argv[named]!.includes('=') ? argv[named]!.split('=')[1] : argv[named + 1];
  const backend = env.RHO_SLM_BACKEND ?? flag ?? 'auto'; // the environment wins, as in useBackend
  if (backend !== 'auto' && backend !== 'tensorflow') return undefined;
  const filter = !argv.includes('--verbose');
  const lowMemory = argv.includes('--low-memory');
  return filter || lowMemory ? { filter, env: lowMemory ? lowMemoryEnv(env) : {} } : undefined;
}

/**
 * In the filtered child: where the parent's stderr is a terminal, makes `process.stderr` report
 * one (with the parent's width), so that progress bars draw as they would without the filter.
 */
export function adoptParentTerminal(env: NodeJS.ProcessEnv = process.env): void {
  const columns = Number(env[FILTERED_ENV]);
  if (Number.isInteger(columns) && columns > 0) Object.assign(process.stderr, { isTTY: true, columns });
}

/**
 * Runs this program again as a child with the same arguments and `plan.env` added to its
 * environment; with `plan.filter`, its stderr passes through {@link createNativeLogFilter}. stdin
 * and stdout are shared. SIGINT, SIGTERM and SIGHUP are passed on (a terminal's Ctrl-C reaches
 * both processes; the child counts one key press once). Resolves to the child's exit status
 * (128 + the signal's number when a signal ended it).
 *
 * @param argv - the arguments after the program name
 * @param plan - from {@link childPlan}
 */
export function runAsChild(argv: readonly string[], plan: ChildPlan): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    stdio: ['inherit', 'inherit', plan.filter ? 'pipe' : 'inherit'],
    env: {
      ...process.env,
      ...plan.env,
      [FILTERED_ENV]: plan.filter && process.stderr.isTTY ? String(process.stderr.columns ?? 80) : '0',
    },
  });
  const filter = createNativeLogFilter((text) => process.stderr.write(text));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => filter.push(text));
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const pass = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of signals) process.on(signal, pass);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const name of signals) process.removeListener(name, pass);
      filter.end();
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
