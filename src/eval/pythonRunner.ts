// The Python side of runPython: the script that sets the limits, runs the model's program with its
// output captured, and reports on a channel apart from stdout.

/** File descriptor (stdio index) on which the runner reports; stdout and stderr are discarded. */
export const CHANNEL_FD = 3;

/**
 * The runner, run as `python3 -I -c RUNNER memory maxChars expression fileSize processes seconds`
 * with the run's nonce and the program on stdin: limits (RLIMIT_AS, FSIZE, NPROC, CPU, no core),
 * output capture (head and tail), the harness's ban on `input()`, exec, the answer, and one JSON
 * report `{ nonce, result, report }` on fd {@link CHANNEL_FD} (never on stdout, which the program
 * owns). The nonce stays in `main()`'s locals, out of the program's scope.
 *
 * @example
 * ```ts
 * spawn('python3', ['-I', '-c', RUNNER, String(1 << 30), '100000', '', String(64 << 20), '0', '11'],
 *   { stdio: ['pipe', 'ignore', 'ignore', 'pipe'] });
 * ```
 */
export const RUNNER = `
import io, json, os, pickle, re, resource, sys, traceback
def main(memory, max_chars, expression, file_size, processes, seconds):
    nonce = sys.stdin.readline().strip()
    code = sys.stdin.read()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.close(null)
    channel = os.fdopen(${CHANNEL_FD}, 'w', encoding='utf-8')
    def limit(kind, value):
        hard = resource.getrlimit(kind)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))
    for kind, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, file_size),
                        (resource.RLIMIT_NPROC, processes), (resource.RLIMIT_CPU, seconds)):
        if int(value) > 0:
            limit(kind, int(value))
    limit(resource.RLIMIT_CORE, 0)
    max_chars = int(max_chars)
    real = sys.stdout
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
    channel.write(json.dumps({'nonce': nonce, 'result': str(result), 'report': report}))
    channel.close()
main(*sys.argv[1:])
`;
