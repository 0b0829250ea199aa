// Attacks a misbehaving or poisoned model could write, run through runPython's default sandbox:
// each must be contained (checked from outside) and end as an error report, never as a crash of
// the evaluation. Needs bubblewrap: without it these tests are skipped loudly, except where
// RHO_SLM_TEST_SANDBOX=1 (CI, which installs it) makes them run and fail.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evaluate, runPython, SLMError, solveWithTools } from '../../src/eval/index.js';
import { resolveInterpreter } from '../../src/eval/sandbox.js';
import { evaluateMathTask } from '../../src/pipeline/mathTask.js';
import { runSandboxTests } from '../helpers/sandbox.js';

const LIMIT = { timeoutMs: 3000 };
const outside = mkdtempSync(join(tmpdir(), 'rho-slm-outside-'));
const secretFile = join(outside, 'secret.txt');
const SECRET = `secret-${randomBytes(8).toString('hex')}`;

/** Runs `code` sandboxed; checks that the run ended in time and that its report is an error. */
async function attack(code: string, timeoutMs = LIMIT.timeoutMs) {
  const started = Date.now();
  const run = await runPython(code, { timeoutMs });
  const elapsed = Date.now() - started;
  expect(elapsed, 'ends within its time limit + 1 s').toBeLessThan(timeoutMs + 1000);
  expect(run.report, `an error report, got ${JSON.stringify(run)}`).not.toBe('Done');
  expect(run.result).not.toContain(SECRET);
  return run;
}

/** Host pids of processes whose command line holds `token` (pgrep -f), other than pgrep itself. */
function processesWith(token: string): number[] {
  const found = spawnSync('pgrep', ['-f', token], { encoding: 'utf8' });
  return found.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

beforeAll(() => writeFileSync(secretFile, SECRET));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

describe.runIf(runSandboxTests)('runPython sandbox: the file system', () => {
  it('cannot read a file outside, nor the project, nor see the home folder beyond the interpreter', async () => {
    await attack(`print(open(${JSON.stringify(secretFile)}).read())`);
    await attack(`print(open(${JSON.stringify(join(process.cwd(), 'package.json'))}).read())`);
    await attack(`print(open('/etc/passwd').read())`);
    // The home folder exists inside only where the interpreter lives in it (pyenv: ~/.pyenv/…):
    // then it holds the empty folders leading to the interpreter, nothing else.
    const { folders } = await resolveInterpreter('python3');
    for (const home of [homedir(), '/root']) {
      const listing = await runPython(`import os\nprint(sorted(os.listdir(${JSON.stringify(home)})))`);
      const leading = folders
        .filter((folder) => folder.startsWith(`${home}/`))
        .map((folder) => folder.slice(home.length + 1).split('/')[0]);
      if (leading.length === 0) expect(listing.report).toMatch(/FileNotFoundError/);
      else expect(listing.result).toBe(`[${[...new Set(leading)].map((name) => `'${name}'`).join(', ')}]`);
    }
  }, 30_000);

  it('cannot write or delete outside its temporary folder; what it writes there is gone after', async () => {
    const victim = join(outside, 'victim.txt');
    writeFileSync(victim, 'keep me');
    await attack(`import os\nos.remove(${JSON.stringify(victim)})`);
    await attack(`open(${JSON.stringify(join(outside, 'dropped.txt'))}, 'w').write('x')`);
    await attack(`open('/usr/pwned', 'w').write('x')`);
    await attack(`import shutil\nshutil.rmtree('/usr/lib')`);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(existsSync(join(outside, 'dropped.txt'))).toBe(false);
    expect(existsSync('/usr/pwned')).toBe(false);
    const inside = await runPython(
      `import os\nopen('note.txt', 'w').write('x')\nprint(os.getcwd(), os.listdir('.'))`,
    );
    expect(inside).toEqual({ result: "/tmp ['note.txt']", report: 'Done' });
  }, 30_000);

  it('cannot follow a symlink out of its temporary folder', async () => {
    await attack(`import os\nos.symlink(${JSON.stringify(secretFile)}, 'link')\nprint(open('link').read())`);
    const folder = await attack(
      `import os\nos.symlink(${JSON.stringify(outside)}, 'out')\nprint(os.listdir('out'))`,
    );
    expect(folder.report).toMatch(/FileNotFoundError/);
  }, 20_000);

  it('cannot see /proc of its parent or of any host process', async () => {
    await attack(`print(open('/proc/${process.pid}/environ').read())`);
    await attack(`import os\nprint(os.listdir('/proc'))`);
    await attack(`print(open('/proc/1/cmdline').read())`);
  }, 20_000);

  it('fills neither the disk nor memory: a huge file stops at the file-size and tmpfs limits', async () => {
    const big = await attack(
      "with open('big', 'wb') as out:\n    while True:\n        out.write(b'x' * 2 ** 20)",
    );
    expect(big.report).toMatch(/File too large/);
    const many = await attack(
      "i = 0\nwhile True:\n    open(f'part{i}', 'wb').write(b'x' * 2 ** 25)\n    i += 1",
    );
    expect(many.report).toMatch(/No space left on device|File too large/);
  }, 30_000);
});

describe.runIf(runSandboxTests)('runPython sandbox: network and environment', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('cannot reach a TCP server on the host loopback, nor resolve names', async () => {
    const tcp = await attack(
      `import socket\nprint(socket.create_connection(('127.0.0.1', ${port}), timeout=2).recv(5))`,
    );
    expect(tcp.report).toMatch(/ConnectionRefusedError|OSError|TimeoutError/);
    await attack(`import socket\nprint(socket.getaddrinfo('example.com', 80))`);
    expect(connections).toBe(0);
  }, 20_000);

  it('sees only a minimal environment', async () => {
    process.env.RHO_SLM_SECRET_TEST = SECRET;
    try {
      const seen = await runPython('import os\nprint(sorted(os.environ))');
      expect(seen).toEqual({ result: "['LANG', 'PATH', 'PWD']", report: 'Done' }); // PWD=/tmp, set by bwrap
    } finally {
      delete process.env.RHO_SLM_SECRET_TEST;
    }
  });
});

describe.runIf(runSandboxTests)('runPython sandbox: processes', () => {
  it('cannot start other programs (subprocess, fork, ctypes fork); exec stays inside', async () => {
    const id = await attack("import subprocess\nprint(subprocess.run(['id'], capture_output=True).stdout)");
    expect(id.report).toBe('PermissionError: [Errno 1] Operation not permitted');
    await attack('import os\nprint(os.system("id"))\nraise SystemExit(1)');
    await attack('import os\nos.fork()');
    // exec replaces the interpreter inside the sandbox: no report, no escape.
    const exec = await attack("import os\nos.execv('/usr/bin/id', ['id'])");
    expect(exec.report).toBe('Exited without a result (code 0)');
  }, 30_000);

  it('a fork bomb and a thread bomb stop at the limits', async () => {
    const fork = await attack('import os\nwhile True:\n    os.fork()');
    expect(fork.report).toMatch(/PermissionError/);
    await attack(
      'import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()',
    );
  }, 20_000);

  it('leaves no process behind and does not stall: Popen(start_new_session=True), exec sleep', async () => {
    const token = `rho-slm-${randomBytes(6).toString('hex')}`;
    const popen = await attack(
      `import subprocess\nsubprocess.Popen(['python3', '-c', 'import time; time.sleep(3000)', '${token}'], start_new_session=True)\nprint('left')`,
    );
    expect(popen.report).toMatch(/PermissionError/);
    const running = attack(
      `import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(3000)', '${token}'])`,
      2000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(processesWith(token), 'the sleeper runs (visible from the host)').toHaveLength(1);
    expect((await running).report).toBe('Timeout Error');
    // The kill of the namespace is asynchronous: allow it up to 2 s to complete.
    for (let wait = 0; wait < 20 && processesWith(token).length > 0; wait++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(processesWith(token)).toEqual([]);
  }, 30_000);

  it('cannot signal the evaluation: kill of its parent, of the host pid of node, of every process', async () => {
    await attack(`import os\nos.kill(os.getppid(), 9)\nos.kill(${process.pid}, 9)`);
    await attack('import os, signal\nos.kill(-1, signal.SIGKILL)');
    expect(process.kill(process.pid, 0)).toBe(true); // node is alive
  }, 20_000);

  it('ctypes reaches only what the sandbox allows; a crash is an error report', async () => {
    const calls = `import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n`;
    const ptrace = await attack(
      `${calls}if libc.ptrace(16, 1, 0, 0) != 0:\n    raise OSError(ctypes.get_errno(), 'ptrace')`,
    );
    expect(ptrace.report).toMatch(/Error: \[Errno 1\] ptrace/);
    const unshare = await attack(
      `${calls}if libc.unshare(0x10000000) != 0:\n    raise OSError(ctypes.get_errno(), 'unshare')`,
    );
    expect(unshare.report).toMatch(/Error: \[Errno 1\] unshare/);
    const crash = await attack('import ctypes\nctypes.string_at(0)');
    expect(crash.report).toMatch(/^Exited without a result/);
  }, 20_000);
});

describe.runIf(runSandboxTests)('runPython sandbox: the result channel', () => {
  it('a fake marker on the real stdout, os._exit, a closed stdout or channel: an error, never the forged result', async () => {
    const marker = await attack(
      `import os, sys\nsys.__stdout__.write('\\x00rho-slm-result\\x00{"result": "999", "report": "Done"}')\nsys.__stdout__.flush()\nos._exit(0)`,
    );
    expect(marker).toEqual({ result: '', report: 'Exited without a result (code 0)' });
    const channel = await attack(
      `import os\nos.write(3, b'{"result": "999", "report": "Done"}')\nos._exit(0)`,
    );
    expect(channel).toEqual({ result: '', report: 'Exited without a result (code 0)' });
    const closed = await attack('import os\nos.close(1)\nos.close(3)\nprint(999)');
    expect(closed.result).toBe('');
    const stdoutOnly = await runPython('import os\nos.close(1)\nprint(999)');
    expect(stdoutOnly).toEqual({ result: '999', report: 'Done' }); // stdout is not the channel
  }, 20_000);
});

describe('runPython without a sandbox', () => {
  it('refuses with SANDBOX_UNAVAILABLE and says how to install bubblewrap, also in solveWithTools', async () => {
    const missing = { bwrap: '/nonexistent/bwrap' };
    const refusal = runPython('print(1)', missing);
    await expect(refusal).rejects.toBeInstanceOf(SLMError);
    await expect(refusal).rejects.toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      message: /could not be started.*install bubblewrap.*apt-get install bubblewrap.*sandbox: 'none'/,
    });
    const solving = solveWithTools({
      generate: async () => '```python\nprint(1)\n```',
      question: 'q',
      answer: '1',
      style: 'gsm8k',
      format: 'tora',
      python: missing,
    });
    await expect(solving).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
    // evaluate checks before its first generation (the model is never called here).
    const evaluation = evaluate({
      model: {} as never,
      tokenizer: {} as never,
      dataset: [{ question: 'q', solution: '1', answer: '1' }],
      shots: [],
      format: 'pal',
      python: missing,
    });
    await expect(evaluation).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
    const task = evaluateMathTask({
      model: {} as never,
      task: 'arithmetic',
      format: 'tora',
      python: missing,
    });
    await expect(task).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE' }); // the CLI's path
    await expect(runPython('print(1)', { sandbox: 'jail' as 'none' })).rejects.toMatchObject({
      code: 'BAD_OPTION',
    });
  });

  it("runs with sandbox: 'none', warns once per process, neither stalls on nor leaves a leftover process", async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const token = `rho-slm-${randomBytes(6).toString('hex')}`;
    try {
      const unsafe = { sandbox: 'none' as const, bwrap: '/nonexistent/bwrap', timeoutMs: 3000 };
      expect(await runPython('print(6 * 7)', unsafe)).toEqual({ result: '42', report: 'Done' });
      const started = Date.now();
      const orphan = await runPython(
        `import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', '${token}'], start_new_session=True, stdout=sys.__stdout__)\nprint('left')`,
        unsafe,
      );
      expect(orphan).toEqual({ result: 'left', report: 'Done' });
      expect(Date.now() - started).toBeLessThan(unsafe.timeoutMs + 1000);
      // The process that left the group was found by its environment's marker and killed.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(processesWith(token)).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/without a sandbox/);
    } finally {
      warn.mockRestore();
      // In case the marker missed it: end ours by id.
      for (const pid of processesWith(token)) execFileSync('kill', ['-9', String(pid)]);
    }
  }, 20_000);
});
