import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteTokenizer } from '../../src/data/index.js';
import {
  buildPrompt,
  cutAtStop,
  evaluate,
  loadMathDataset,
  syntheticArithmetic,
} from '../../src/eval/index.js';
import { LlamaModel } from '../../src/model/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { runSandboxTests } from '../helpers/sandbox.js';

let directory: string;
beforeAll(async () => {
  await activateBackend(testBackends[2]!);
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-eval-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

describe('datasets and prompts', () => {
  it('read GSM8K and MATH JSONL layouts and name malformed lines', async () => {
    const gsm = join(directory, 'gsm.jsonl');
    await writeFile(gsm, `${JSON.stringify({ question: 'What is 2+3?', answer: '2+3=5\n#### 5' })}\n\n`);
    expect(await loadMathDataset(gsm, 'gsm8k')).toEqual([
      { question: 'What is 2+3?', solution: '2+3=5\nThe answer is 5.', answer: '5' },
    ]);
    const math = join(directory, 'math.jsonl');
    await writeFile(
      math,
      `${JSON.stringify({ problem: 'Half of 1?', solution: 'It is $\\boxed{\\frac{1}{2}}$.' })}\n`,
    );
    expect((await loadMathDataset(math, 'math'))[0]!.answer).toBe('\\frac{1}{2}');
    await writeFile(gsm, `${JSON.stringify({ question: 'q', answer: 'no marker' })}\n`);
    await expect(loadMathDataset(gsm, 'gsm8k')).rejects.toMatchObject({
      code: 'BAD_OPTION',
      message: /gsm.jsonl:1 has no final answer/,
    });
  });

  it('builds few-shot prompts in both layouts and cuts completions at the stop sequences', () => {
    const shots = syntheticArithmetic({ count: 2, seed: 3 });
    const prompt = buildPrompt(shots, 'What is 1+1?');
    expect(prompt.split('Question:')).toHaveLength(4);
    expect(prompt.endsWith('Question: What is 1+1?\nAnswer:')).toBe(true);
    expect(buildPrompt([], 'x?')).toBe('Question: x?\nAnswer:');
    expect(cutAtStop(' 4. The answer is 4.\n\nQuestion: next')).toBe(' 4. The answer is 4.');
    expect(syntheticArithmetic({ count: 3, seed: 9 })).toEqual(syntheticArithmetic({ count: 3, seed: 9 }));
  });
});

describe('evaluate', () => {
  it('runs the harness end to end with the nano model: counts, files, deterministic at temperature 0', async () => {
    const model = LlamaModel.create('nano', { seed: 2 });
    const problems = syntheticArithmetic({ count: 5, seed: 4 });
    const options = {
      model,
      tokenizer: byteTokenizer(),
      dataset: problems.slice(1),
      shots: problems.slice(0, 1),
      maxNewTokens: 12,
      limit: 3,
    };
    const out = join(directory, 'results.jsonl');
    const first = await evaluate({ ...options, out });
    const second = await evaluate(options);
    expect(first.total).toBe(3);
    expect(first.correct).toBe(first.examples.filter((e) => e.correct).length);
    expect(first.accuracy).toBe(first.correct / 3);
    expect(second.examples.map((e) => e.completion)).toEqual(first.examples.map((e) => e.completion));
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    expect(Object.keys(lines[0])).toEqual(['prompt', 'completion', 'extracted', 'reference', 'correct']);
    expect(lines[0].reference).toBe(problems[1]!.answer);
    model.dispose();
  }, 60_000);

  it.runIf(runSandboxTests)(
    'runs the PAL format end to end: the generated text is executed and its run recorded',
    async () => {
      const model = LlamaModel.create('nano', { seed: 2 });
      const problems = syntheticArithmetic({ count: 2, seed: 4 });
      const result = await evaluate({
        model,
        tokenizer: byteTokenizer(),
        dataset: problems,
        shots: [],
        format: 'pal',
        maxNewTokens: 8,
        limit: 1,
      });
      const [example] = result.examples;
      expect(example!.prompt).toBe(`Question: ${problems[0]!.question}`);
      expect(example!.runs!.length).toBeGreaterThanOrEqual(1);
      expect(example!.runs![0]!.report).not.toBe('');
      expect(example!.correct).toBe(false);
      await expect(
        evaluate({
          model,
          tokenizer: byteTokenizer(),
          dataset: problems,
          shots: [],
          format: 'bogus' as never,
        }),
      ).rejects.toMatchObject({ code: 'BAD_OPTION', message: /Option 'format' passed to 'evaluate'/ });
      model.dispose();
    },
    60_000,
  );
});
