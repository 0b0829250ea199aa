// Re-grading saved outputs: the Python harness's outputs layout (with its stored verdicts), rho-slm's
// own layout, malformed lines, and the `rho-slm eval --grade` command.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regradeOutputs } from '../../src/eval/index.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-regrade-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

const readLines = async (file: string) =>
  (await readFile(new URL(file, import.meta.url), 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));

/** The agreement set's MATH cases written as the harness writes its outputs, with its verdicts. */
async function harnessOutputs(): Promise<string> {
  const cases = await readLines('harness-cases.jsonl');
  const verdicts = new Map((await readLines('harness-verdicts.jsonl')).map((v) => [v.id, v]));
  const lines = cases
    .filter((item) => item.task === 'math')
    .map((item, idx) =>
      JSON.stringify({
        idx,
        question: 'q',
        gt_cot: `So the answer is $\\boxed{${item.answer}}$.`,
        gt: verdicts.get(item.id).gt,
        code: [item.completion],
        pred: [verdicts.get(item.id).pred],
        score: [verdicts.get(item.id).correct],
      }),
    );
  const file = join(directory, 'math_outputs.jsonl');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe('regradeOutputs', () => {
  it('re-grades harness outputs and measures agreement with their stored verdicts', async () => {
    const file = await harnessOutputs();
    const out = join(directory, 'verdicts.jsonl');
    const result = await regradeOutputs(file, { style: 'math', out });
    expect(result.total).toBeGreaterThan(150);
    expect(result.withHarnessVerdict).toBe(result.total);
    expect(result.agreement).toBeGreaterThanOrEqual(0.99);
    expect(Math.abs(result.accuracy - result.harnessAccuracy)).toBeLessThanOrEqual(0.01);
    const written = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(written).toHaveLength(result.total);
    expect(Object.keys(written[0])).toEqual(['line', 'extracted', 'reference', 'correct', 'harnessCorrect']);
    const strict = await regradeOutputs(file, { style: 'math', grading: 'strict' });
    expect(strict.total).toBe(result.total);
  });

  it("reads rho-slm's own layout and names a malformed line", async () => {
    const file = join(directory, 'own.jsonl');
    await writeFile(
      file,
      `${JSON.stringify({ prompt: 'p', completion: 'The answer is 72.', extracted: '72', reference: '72', correct: true })}\n${JSON.stringify({ completion: 'The answer is 5', answer: '6' })}\n`,
    );
    const result = await regradeOutputs(file, { style: 'gsm8k' });
    expect(result).toMatchObject({ total: 2, correct: 1, accuracy: 0.5, withHarnessVerdict: 0 });
    expect(result.agreement).toBeNaN();
    await writeFile(file, `${JSON.stringify({ completion: 'x' })}\n`);
    await expect(regradeOutputs(file, { style: 'gsm8k' })).rejects.toMatchObject({
      code: 'BAD_OPTION',
      message: /own.jsonl:1 needs 'completion' and 'reference'/,
    });
    await writeFile(file, '{not json\n');
    await expect(regradeOutputs(file, { style: 'gsm8k' })).rejects.toMatchObject({
      message: /own.jsonl:1 is not valid JSON/,
    });
  });

  it('`rho-slm eval --task math --grade` prints accuracy and agreement and writes verdicts', async () => {
    const file = await harnessOutputs();
    const root = new URL('../..', import.meta.url).pathname;
    const args = [
      '--import',
      join(root, 'node_modules/tsx/dist/esm/index.mjs'),
      join(root, 'src/cli/bin.ts'),
    ];
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [...args, 'eval', '--task', 'math', '--grade', file], {
        cwd: directory,
      });
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      child.on('close', (exit) => resolve({ code: exit, stdout: text }));
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^math: accuracy \d+\.\d% \(\d+\/\d+\) · harness \d+\.\d%, same verdict on (99|100)\.\d% of \d+; verdicts in .*verdicts\.jsonl/,
    );
    expect((await readFile(`${file}.verdicts.jsonl`, 'utf8')).trim().split('\n').length).toBeGreaterThan(150);
  }, 60_000);
});
