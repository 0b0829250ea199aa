// The three SLM steps through the real command, and crash tests: SIGKILL at random moments,
// resume, and compare with an uninterrupted run byte for byte.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';

let directory: string;

const run = (args: string[]) => runCli(directory, args);

/** Starts `args`, kills it with SIGKILL after `delayMs`, and waits for it to die. */
function killAfter(args: string[], delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = startCli(directory, args);
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const result = await run(args);
  if (result.code !== 0)
    throw new Error(`rho-slm ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

/** The loss of the first step a `train` run into `out` recorded in its metrics.jsonl. */
async function firstLoss(out: string): Promise<number> {
  return JSON.parse((await readFile(join(directory, out, 'metrics.jsonl'), 'utf8')).split('\n')[0]!)
    .loss as number;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-cli-'));
  const prose = 'It was the best of times, it was the worst of times, it was the age of wisdom. ';
  await writeFile(join(directory, 'clean.txt'), prose.repeat(60));
  const noise = Array.from({ length: 2400 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join('');
  await writeFile(
    join(directory, 'noisy.jsonl'),
    `${JSON.stringify({ text: prose.repeat(20) })}\n${JSON.stringify({ text: noise })}\n`,
  );
  await ok(['prepare', 'clean.txt', '--out', 'clean.tok']);
  await ok(['prepare', 'noisy.jsonl', '--out', 'noisy.tok']);
}, 60_000);
afterAll(() => rm(directory, { recursive: true, force: true }));

/** `rho-slm inspect` of window 2 of the noisy corpus, with `extra` options. */
const inspect = (...extra: string[]) => [
  'inspect',
  '--model',
  'slm',
  '--data',
  'noisy.tok',
  '--scores',
  'noisy.scores',
  '--window',
  '2',
  ...extra,
];

const train = (out: string, extra: string[] = []) => [
  'train',
  '--data',
  'clean.tok',
  '--out',
  out,
  '--config',
  'nano',
  '--steps',
  '24',
  '--batch',
  '4',
  '--seq-len',
  '32',
  '--checkpoint-every',
  '3',
  ...extra,
];

describe('rho-slm command', () => {
  it('--help marks required options, and only those', async () => {
    const help = await ok(['train', '--help']);
    expect(help).toMatch(/--data <file> +token file \(required\)/);
    expect(help.match(/\(required\)/g)).toHaveLength(2); // --data and --out
  });

  it('runs the three steps: reference model, scores, selective training, evaluation', async () => {
    await ok(train('ref'));
    expect((await readFile(join(directory, 'ref/metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(
      24,
    );
    const scored = JSON.parse(
      await ok([
        'score',
        '--model',
        'ref',
        '--data',
        'noisy.tok',
        '--out',
        'noisy.scores',
        '--seq-len',
        '32',
        '--json',
      ]),
    );
    expect(scored.seqLen).toBe(32);
    const scoreMetrics = (await readFile(join(directory, 'noisy.scores.metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(scoreMetrics.at(-1)).toMatchObject({
      windowsDone: scored.partWindows,
      windows: scored.partWindows,
    });
    await ok([
      'train',
      '--data',
      'noisy.tok',
      '--scores',
      'noisy.scores',
      '--out',
      'slm',
      '--config',
      'nano',
      '--steps',
      '6',
      '--batch',
      '4',
      '--seq-len',
      '32',
    ]);
    const metrics = (await readFile(join(directory, 'slm/metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(
      metrics.every((m: { selectedFraction: number }) => Math.abs(m.selectedFraction - 0.6) < 0.01),
    ).toBe(true);
    const evaluation = JSON.parse(
      await ok(['eval', '--model', 'slm', '--data', 'clean.tok', '--seq-len', '32', '--json']),
    );
    expect(evaluation.loss).toBeGreaterThan(0);
    expect(evaluation.perplexity).toBeCloseTo(Math.exp(evaluation.loss), 6);

    const math = JSON.parse(
      await ok([
        'eval',
        '--model',
        'slm',
        '--task',
        'arithmetic',
        '--limit',
        '2',
        '--num-shots',
        '1',
        '--max-new-tokens',
        '8',
        '--json',
      ]),
    );
    expect(math.total).toBe(2);
    expect(Number.isInteger(math.correct) && math.correct >= 0 && math.correct <= 2).toBe(true);
    expect(math.accuracy).toBe(math.correct / math.total);
    const inspected = JSON.parse(await ok(inspect('--json')));
    expect(inspected).toHaveLength(32);
    expect(inspected.filter((token: { selected: boolean }) => token.selected)).toHaveLength(19); // round(0.6 · 32)
    for (const token of inspected) expect(token.excess).toBeCloseTo(token.modelLoss - token.refLoss, 5);
    await ok(inspect('--html', 'window.html'));
    const html = await readFile(join(directory, 'window.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/class="token selected"/g)).toHaveLength(19);
    expect(html).not.toMatch(/<script|https?:\/\//);
    const terminal = await ok(inspect());
    expect(terminal).toMatch(/19\/32 tokens selected \(in \[brackets\]\)/);
    expect(terminal).not.toContain('\u001b['); // stdout is a pipe: no colour codes
  }, 120_000);

  it('train --init continues a saved model; --recompute-activations trains the same weights', async () => {
    const continued = (out: string, extra: string[] = []) =>
      ok([
        'train',
        '--data',
        'clean.tok',
        '--out',
        out,
        '--init',
        'ref',
        '--steps',
        '3',
        '--batch',
        '4',
        '--seq-len',
        '32',
        ...extra,
      ]);
    await continued('continued');
    await continued('continued-recomputed', ['--recompute-activations']);
    // A fresh nano model starts near ln(259) = 5.56 nats; the reference model has learnt the prose.
    expect(await firstLoss('continued')).toBeLessThan(4.5);
    const heldOut = async (model: string) =>
      JSON.parse(await ok(['eval', '--model', model, '--data', 'clean.tok', '--seq-len', '32', '--json']))
        .loss as number;
    expect(await heldOut('continued-recomputed')).toBeCloseTo(await heldOut('continued'), 5);
    const both = await run([
      'train',
      '--data',
      'clean.tok',
      '--out',
      'both',
      '--init',
      'ref',
      '--config',
      'nano',
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--init .* or --config .*, not both/);
  }, 120_000);

  it('train --sampler ziggurat draws the new model with the ziggurat; a bad or misplaced --sampler is a usage error before the backend loads', async () => {
    const fresh = (out: string, extra: string[] = []) =>
      ok([
        'train',
        '--data',
        'clean.tok',
        '--out',
        out,
        '--config',
        'nano',
        '--steps',
        '1',
        '--batch',
        '2',
        '--seq-len',
        '16',
        '--seed',
        '3',
        ...extra,
      ]);
    await fresh('sampled-tfjs');
    await fresh('sampled-ziggurat', ['--sampler', 'ziggurat']);
    await fresh('sampled-tfjs-again', ['--sampler', 'tfjs']);
    // the same seed, other initial weights: another first loss; the default is tfjs
    expect(await firstLoss('sampled-ziggurat')).not.toBe(await firstLoss('sampled-tfjs'));
    expect(await firstLoss('sampled-tfjs-again')).toBe(await firstLoss('sampled-tfjs'));
    const [unknown, withInit] = await Promise.all([
      run([
        'train',
        '--data',
        'clean.tok',
        '--out',
        'bad-sampler',
        '--config',
        'nano',
        '--sampler',
        'box-muller',
      ]),
      run([
        'train',
        '--data',
        'clean.tok',
        '--out',
        'init-sampler',
        '--init',
        'ref',
        '--sampler',
        'ziggurat',
      ]),
    ]);
    for (const result of [unknown, withInit]) {
      expect(result.code).toBe(2);
      expect(result.stderr).not.toMatch(/backend:|oneDNN|absl/);
    }
    expect(unknown.stderr).toMatch(/--sampler must be tfjs or ziggurat, got 'box-muller'/);
    expect(withInit.stderr).toMatch(
      /--sampler draws random weights \(--config\); --init starts from a saved model/,
    );
  }, 120_000);

  it('refuses scores of another window length, naming the field', async () => {
    const result = await run([
      'train',
      '--data',
      'noisy.tok',
      '--scores',
      'noisy.scores',
      '--out',
      'bad',
      '--config',
      'nano',
      '--steps',
      '2',
      '--seq-len',
      '16',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /noisy.scores does not match noisy.tok: its seqLen is 32, expected 16.*BAD_CHECKPOINT/,
    );
  }, 60_000);

  it('score: killed at random moments and resumed, ends byte-identical to an uninterrupted run', async () => {
    const args = (out: string) => [
      'score',
      '--model',
      'ref',
      '--data',
      'long.tok',
      '--out',
      out,
      '--seq-len',
      '32',
      '--batch',
      '1',
      '--resume',
    ];
    await writeFile(
      join(directory, 'long.txt'),
      'It was the age of foolishness, it was the epoch of belief. '.repeat(400),
    );
    await ok(['prepare', 'long.txt', '--out', 'long.tok']);
    const started = Date.now();
    await ok(args('whole.scores'));
    const duration = Date.now() - started;
    let interrupted = 0;
    for (const fraction of [0.45, 0.6, 0.75]) {
      await killAfter(args('crashed.scores'), Math.floor(duration * (fraction + 0.1 * Math.random())));
      const partial = await readFile(join(directory, 'crashed.scores.partial')).catch(() => undefined);
      if (partial !== undefined) interrupted++;
    }
    expect(interrupted, 'at least one kill landed while scoring').toBeGreaterThan(0);
    await ok(args('crashed.scores'));
    expect(await readFile(join(directory, 'crashed.scores'))).toEqual(
      await readFile(join(directory, 'whole.scores')),
    );
  }, 120_000);

  it('train: killed at random moments and resumed, loses and repeats nothing (same final weights)', async () => {
    const long = (out: string) => train(out, ['--steps', '80', '--resume']);
    const started = Date.now();
    await ok(long('straight'));
    const duration = Date.now() - started;
    let interrupted = 0;
    for (const fraction of [0.5, 0.7]) {
      await killAfter(long('crashed'), Math.floor(duration * (fraction + 0.1 * Math.random())));
      const state = await readFile(join(directory, 'crashed/train-state.json'), 'utf8').catch(
        () => '{"step":0}',
      );
      if (JSON.parse(state).step < 80) interrupted++;
    }
    expect(interrupted, 'at least one kill landed while training').toBeGreaterThan(0);
    await ok(long('crashed'));
    const steps = (await readFile(join(directory, 'crashed/metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).step);
    expect(steps).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(await readFile(join(directory, 'crashed/model.safetensors'))).toEqual(
      await readFile(join(directory, 'straight/model.safetensors')),
    );
  }, 120_000);

  it('train: Ctrl-C stops after the current step with a checkpoint, and --resume finishes the run', async () => {
    const args = train('interrupted', ['--steps', '400', '--checkpoint-every', '1000', '--resume']);
    const stopped = await runCli(directory, args, { interruptWhen: /train: 1\//, delayMs: 1500 });
    expect(stopped.code).toBe(0);
    const step = Number(/stopped at step (\d+)/.exec(stopped.stdout)?.[1]);
    expect(step).toBeGreaterThan(0);
    expect(step).toBeLessThan(400);
    expect(JSON.parse(await readFile(join(directory, 'interrupted/train-state.json'), 'utf8')).step).toBe(
      step,
    );
    expect(
      (await readFile(join(directory, 'interrupted/metrics.jsonl'), 'utf8')).trim().split('\n'),
    ).toHaveLength(step);
    await ok(train('interrupted', ['--steps', String(step + 5), '--checkpoint-every', '1000', '--resume']));
    const steps = (await readFile(join(directory, 'interrupted/metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).step);
    expect(steps).toEqual(Array.from({ length: step + 5 }, (_, i) => i + 1));
  }, 120_000);
});
