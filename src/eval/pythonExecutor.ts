// Runs model-written Python in a separate python3 process with a time limit, an address-space
// limit and bounded output capture, reporting like the harness's PythonExecutor.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SLMError } from '../core/errors.js';

/** Options of {@link runPython}. */
export interface PythonRunOptions {
  /** The interpreter to run. @default 'python3' */
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
}

/** What one program run gave, as the harness reports it (both stripped, each at most 400 characters). */
export interface PythonRun {
  /** Printed output (ToRA) or the answer expression's value (PAL); `''` after an error. */
  result: string;
  /** `'Done'`, `'Timeout Error'`, or the last line of the traceback (`'ZeroDivisionError: division by zero'`). */
  report: string;
}

const MARKER = '\u0000rho-slm-result\u0000';

// The runner inside python3: limits, output capture (head and tail), the harness's ban on
// input(), exec, the answer, and one marked JSON line on the real stdout.
const RUNNER = `
import io, json, pickle, re, resource, sys, traceback
memory, max_chars, expression = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
code = sys.stdin.read()
real = sys.stdout
if memory > 0:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
class Capture(io.TextIOBase):
    def __init__(self):
        self.head, self.size, self.tail = [], 0, ''
    def writable(self):
        return True
    def write(self, text):
        text = str(text)
        if self.size < max_chars:
            self.head.append(text[:max_chars - self.size])
        self.size += len(text)
        self.tail = (self.tail + text)[-400:]
        return len(text)
    def value(self):
        head = ''.join(self.head)
        return head if self.size <= max_chars else head + self.tail
capture = Capture()
sys.stdout = capture
scope = {'__name__': '__main__'}
try:
    if re.search(r'(\\s|^)?input\\(', code):
        raise RuntimeError()
    exec(compile(code, '<program>', 'exec'), scope)
    result = eval(expression, scope) if expression else capture.value()
    str(result)
    pickle.dumps(result)
    report = 'Done'
except BaseException:
    result = ''
    report = traceback.format_exc().split('\\n')[-2]
sys.stdout = real
real.write(${JSON.stringify(MARKER)} + json.dumps({'result': str(result), 'report': report}))
real.flush()
`;

/** The harness's truncation: at most 400 characters, the middle replaced by `...`. */
function truncate(text: string): string {
  return text.length > 400 ? `${text.slice(0, 200)}...${text.slice(-200)}` : text;
}

function finish(result: string, report: string): PythonRun {
  return { result: truncate(result.trim()), report: truncate(report.trim()) };
}

/**
 * Runs a Python program in a fresh `python3 -I` process (isolated mode, an empty temporary working
 * directory, a minimal environment) with a wall-clock limit, an address-space limit and bounded
 * output capture. Errors in the program are results, not exceptions: an infinite loop reports
 * `'Timeout Error'`, an exception its last traceback line, a memory bomb `MemoryError`, and huge
 * output is cut to its first and last characters. This contains mistakes, not attackers: the
 * program runs with your user's rights.
 *
 * @throws {@link SLMError} `TOOL_UNAVAILABLE` when the interpreter cannot be started
 * @throws {@link SLMError} `BAD_OPTION` for a non-positive `timeoutMs` or negative `memoryMb`
 * @example
 * ```ts
 * await runPython('print(6 * 7)');                                    // { result: '42', report: 'Done' }
 * await runPython('def solution():\n    return 18', { answerExpression: 'solution()' }); // result '18'
 * ```
 */
export async function runPython(code: string, options: PythonRunOptions = {}): Promise<PythonRun> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const memoryMb = options.memoryMb ?? 1024;
  const maxOutputChars = options.maxOutputChars ?? 100_000;
  if (!(timeoutMs > 0) || !(memoryMb >= 0) || !(maxOutputChars >= 400)) {
    throw new SLMError(
      'BAD_OPTION',
      `'runPython' needs timeoutMs > 0, memoryMb ≥ 0 and maxOutputChars ≥ 400, got ${timeoutMs}, ${memoryMb}, ${maxOutputChars}.`,
    );
  }
  const python = options.python ?? 'python3';
  const directory = await mkdtemp(join(tmpdir(), 'rho-slm-python-'));
  try {
    return await new Promise<PythonRun>((resolve, reject) => {
      const child = spawn(
        python,
        [
          '-I',
          '-c',
          RUNNER,
          String(memoryMb * 1024 * 1024),
          String(maxOutputChars),
          options.answerExpression ?? '',
        ],
        {
          cwd: directory,
          env: { PATH: process.env.PATH ?? '', LANG: 'C.UTF-8' },
          stdio: ['pipe', 'pipe', 'ignore'],
        },
      );
      const chunks: Buffer[] = [];
      let size = 0;
      let outcome: PythonRun | undefined;
      const stop = (run: PythonRun) => {
        outcome ??= run;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => stop(finish('', 'Timeout Error')), timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 4 * maxOutputChars + 65_536) stop(finish('', 'Output Limit Error'));
        else chunks.push(chunk);
      });
      child.stdin.on('error', () => {}); // the program may exit before reading all of its code
      child.stdin.end(code);
      child.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new SLMError(
            'TOOL_UNAVAILABLE',
            `'runPython' could not start '${python}' (${error.code ?? error.message}): tool-integrated evaluation needs a Python 3 interpreter on PATH, or pass its path as 'python'.`,
          ),
        );
      });
      child.on('close', (exitCode, signal) => {
        clearTimeout(timer);
        if (outcome !== undefined) return resolve(outcome);
        const text = Buffer.concat(chunks).toString('utf8');
        const at = text.lastIndexOf(MARKER);
        if (at < 0) return resolve(finish('', `Exited without a result (${signal ?? `code ${exitCode}`})`));
        const { result, report } = JSON.parse(text.slice(at + MARKER.length)) as PythonRun;
        resolve(finish(result, report));
      });
    });
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
