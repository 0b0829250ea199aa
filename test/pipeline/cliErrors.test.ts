// The command's failure paths, as a user meets them: one line `rho-slm: <command>: <what> [CODE]`
// with exit status 1 (2 for usage, 130 for Ctrl-C before anything was written), refusal to
// overwrite earlier output, the output lock, Ctrl-C during prepare and score, unreadable folders,
// and a full disk (nothing half-written under a final name).
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/program.js';
import { LlamaModel } from '../../src/model/index.js';
import { prepareCorpus } from '../../src/pipeline/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { errorLines, runCli } from '../helpers/cli.js';

let directory: string;
const at = (name: string) => join(directory, name);

/** Runs the program in this process (the real argument parsing and error path), capturing output. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['--backend', 'cpu', ...args], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

/** Every file under `path`, relative to it. */
async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(path.length + 1));
}

beforeAll(async () => {
  await activateBackend(testBackends[0]!);
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-cli-errors-'));
  await writeFile(at('clean.txt'), 'It was the best of times, it was the worst of times. '.repeat(400));
  await prepareCorpus({ inputs: [at('clean.txt')], out: at('clean.tok') });
  const model = LlamaModel.create('nano', { seed: 1 });
  await model.save(at('model'));
  model.dispose();
}, 60_000);
afterAll(() => rm(directory, { recursive: true, force: true }));

describe('rho-slm failures (real command)', () => {
  it('prints one line naming the command, the problem and a code; exit 1, or 2 for usage', async () => {
    const [missing, wrongKind, scoresAsTokens, noModel, usage, verbose] = await Promise.all([
      runCli(directory, ['train', '--data', 'nope.tok', '--out', 'a', '--config', 'nano']),
      runCli(directory, ['train', '--data', 'clean.txt', '--out', 'b', '--config', 'nano']),
      runCli(directory, [
        'inspect',
        '--model',
        'model',
        '--data',
        'clean.tok',
        '--scores',
        'clean.tok',
        '--window',
        '0',
      ]),
      runCli(directory, ['eval', '--model', 'nomodel', '--data', 'clean.tok']),
      runCli(directory, ['train', '--out', 'c']),
      runCli(directory, ['--verbose', 'train', '--data', 'nope.tok', '--out', 'd', '--config', 'nano']),
    ]);
    expect(errorLines(missing)).toEqual([
      'rho-slm: train: --data nope.tok: no such file or directory [BAD_FILE]',
    ]);
    // A missing input fails before the backend loads (no TensorFlow start-up lines, no "backend:").
    expect(missing.stderr).not.toMatch(/backend:|oneDNN|absl/);
    expect(errorLines(wrongKind)).toEqual([
      'rho-slm: train: clean.txt is text, not a token file (written by rho-slm prepare). [BAD_FILE]',
    ]);
    expect(errorLines(scoresAsTokens)).toEqual([
      'rho-slm: inspect: clean.tok is a token file, not a score file (written by rho-slm score). [BAD_FILE]',
    ]);
    expect(errorLines(noModel)).toEqual([
      'rho-slm: eval: nomodel/config.json does not exist: nomodel is not a model directory (no config.json). [BAD_CHECKPOINT]',
    ]);
    expect(errorLines(usage)).toEqual([
      "rho-slm: train: required option '--data <file>' not specified (see rho-slm train --help) [USAGE]",
    ]);
    for (const result of [missing, wrongKind, scoresAsTokens, noModel]) {
      expect(result.code).toBe(1);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    }
    expect(usage.code).toBe(2);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\[BAD_FILE\]\n.*SLMError: --data nope.tok[\s\S]*\n\s+at /);
  }, 120_000);

  it('names an unreadable folder', async () => {
    const open = await mkdtemp(join(tmpdir(), 'rho-slm-unreadable-'));
    try {
      await chmod(open, 0o777);
      await mkdir(join(open, 'secret'));
      await writeFile(join(open, 'secret', 'a.txt'), 'hidden');
      await chmod(join(open, 'secret'), 0o000);
      // root reads anything: run as nobody then
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const result = await runCli(open, ['prepare', 'secret', '--out', 'out.tok'], asUser);
      expect(errorLines(result)).toEqual(["rho-slm: prepare: permission denied, scandir 'secret' [EACCES]"]);
      expect(result.code).toBe(1);
      expect(await readdir(open)).toEqual(['secret']);
    } finally {
      await chmod(join(open, 'secret'), 0o755);
      await rm(open, { recursive: true, force: true });
    }
  }, 60_000);

  it('Ctrl-C during prepare writes nothing under the final name and exits 130', async () => {
    const record = JSON.stringify({
      text: 'A line of text to tokenize, long enough to take a moment. '.repeat(6),
    });
    await writeFile(at('big.jsonl'), `${record}\n`.repeat(60_000));
    const result = await runCli(directory, ['prepare', 'big.jsonl', '--out', 'big.tok'], {
      interruptWhen: /prepare: 100 documents/,
    });
    expect(result.code).toBe(130);
    expect(errorLines(result)).toEqual([
      'rho-slm: prepare: stopped by the user; nothing was written to big.tok. [INTERRUPTED]',
    ]);
    expect((await readdir(directory)).filter((name) => name.startsWith('big.tok'))).toEqual([]);
  }, 60_000);

  it('Ctrl-C during score keeps a resumable part; a plain re-run asks for --resume or --force', async () => {
    const args = [
      'score',
      '--model',
      'model',
      '--data',
      'clean.tok',
      '--out',
      'clean.scores',
      '--seq-len',
      '16',
      '--batch',
      '1',
    ];
    const stopped = await runCli(directory, args, { interruptWhen: /score: 1\// });
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/stopped; resume with --resume/);
    const names = await readdir(directory);
    expect(names).toContain('clean.scores.partial');
    expect(names).not.toContain('clean.scores');
    expect(names).not.toContain('clean.scores.lock');
    const again = await runCli(directory, args);
    expect(again.code).toBe(1);
    expect(errorLines(again)).toEqual([
      'rho-slm: score: clean.scores.partial holds an interrupted run; pass --resume to continue it or --force to start over. [OUTPUT_EXISTS]',
    ]);
  }, 60_000);
});

describe('safe re-runs (program in-process)', () => {
  it('prepare and train refuse to overwrite earlier output and name the flag to use', async () => {
    const prepare = await inProcess(['prepare', at('clean.txt'), '--out', at('clean.tok')]);
    expect(prepare.code).toBe(1);
    expect(prepare.stderr).toBe(
      `rho-slm: prepare: ${at('clean.tok')} already exists; pass --force to replace it. [OUTPUT_EXISTS]\n`,
    );
    expect((await inProcess(['prepare', at('clean.txt'), '--out', at('clean.tok'), '--force'])).code).toBe(0);

    await mkdir(at('run'));
    await writeFile(at('run/metrics.jsonl'), '{"step":1}\n');
    const train = await inProcess([
      'train',
      '--data',
      at('clean.tok'),
      '--out',
      at('run'),
      '--config',
      'nano',
      '--steps',
      '1',
    ]);
    expect(train.code).toBe(1);
    expect(errorLines({ ...train, code: 1 }).join('\n')).toMatch(
      /^rho-slm: train: .*run already holds a run \(metrics.jsonl\); pass --resume to continue it or --force to start over. \[OUTPUT_EXISTS\]$/,
    );
  });

  it('a second run on a locked output fails naming the PID; a stale lock is taken over', async () => {
    const lock = {
      pid: process.pid,
      host: hostname(),
      command: 'train',
      started: '2026-01-01T00:00:00.000Z',
    };
    await writeFile(at('locked.tok.lock'), JSON.stringify(lock));
    const held = await inProcess(['prepare', at('clean.txt'), '--out', at('locked.tok')]);
    expect(held.code).toBe(1);
    expect(held.stderr).toContain(
      `is in use by 'train' (PID ${process.pid}, since 2026-01-01T00:00:00.000Z)`,
    );
    expect(held.stderr).toMatch(/\[OUTPUT_LOCKED\]\n$/);

    const ended = spawnSync(process.execPath, ['-e', '']).pid!; // a process that has exited
    await writeFile(at('locked.tok.lock'), JSON.stringify({ ...lock, pid: ended }));
    expect((await inProcess(['prepare', at('clean.txt'), '--out', at('locked.tok')])).code).toBe(0);
    expect(await readdir(directory)).not.toContain('locked.tok.lock');
  });
});

describe('a full disk (ENOSPC injected into every positional write)', () => {
  async function withFullDisk<T>(run: () => Promise<T>): Promise<T> {
    const handle = await open(at('clean.txt'), 'r');
    const prototype = Object.getPrototypeOf(handle) as { write: (...args: unknown[]) => Promise<unknown> };
    await handle.close();
    const spy = vi.spyOn(prototype, 'write').mockImplementation(async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
        code: 'ENOSPC',
        syscall: 'write',
      });
    });
    try {
      return await run();
    } finally {
      spy.mockRestore();
    }
  }

  it('prepare fails in one line and leaves no file, temporary or final', async () => {
    const result = await withFullDisk(() => inProcess(['prepare', at('clean.txt'), '--out', at('full.tok')]));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('rho-slm: prepare: no space left on device, write [ENOSPC]\n');
    expect((await readdir(directory)).filter((name) => name.startsWith('full.tok'))).toEqual([]);
  });

  it('train fails at its first checkpoint and leaves no model file, temporary or final', async () => {
    const result = await withFullDisk(() =>
      inProcess([
        'train',
        '--data',
        at('clean.tok'),
        '--out',
        at('full'),
        '--config',
        'nano',
        '--steps',
        '2',
        '--batch',
        '2',
        '--seq-len',
        '16',
        '--checkpoint-every',
        '1',
      ]),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^backend: cpu\nrho-slm: train: no space left on device, write \[ENOSPC\]\n$/,
    );
    expect((await filesUnder(at('full'))).filter((name) => !name.endsWith('metrics.jsonl'))).toEqual([]);
    expect(await readdir(directory)).not.toContain('full.lock');
  }, 60_000);
});
