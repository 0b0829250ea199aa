// rho-slm/eval's 'harness' grading against the Python math-evaluation-harness's own verdicts on a
// set of real-looking completions (see harness-oracle.py for how the verdicts were made).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AnswerStyle, gradeCompletion, isEquivalent, normalizeAnswer } from '../../src/eval/index.js';

interface Case {
  id: string;
  category: string;
  task: AnswerStyle;
  completion: string;
  answer: string;
}
interface Verdict {
  id: string;
  pred: string;
  gt: string;
  correct: boolean;
}

const lines = (file: string) =>
  readFileSync(new URL(file, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
const cases = lines('harness-cases.jsonl') as Case[];
const verdicts = new Map(
  (lines('harness-verdicts.jsonl') as Verdict[]).map((verdict) => [verdict.id, verdict]),
);

describe('harness grading agrees with the Python harness', () => {
  const graded = cases.map((item) => ({
    item,
    want: verdicts.get(item.id)!,
    got: gradeCompletion(item.completion, item.answer, item.task),
  }));

  it('has a verdict for every case', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    expect(graded.every(({ want }) => want !== undefined)).toBe(true);
  });

  it('extracts and normalises every answer to the same string', () => {
    const differing = graded.filter(
      ({ want, got }) => got.extracted !== want.pred || got.reference !== want.gt,
    );
    expect(
      differing.map(({ item, want, got }) => ({
        id: item.id,
        got: [got.extracted, got.reference],
        want: [want.pred, want.gt],
      })),
    ).toEqual([]);
  });

  it('gives the same verdict on at least 99% of the cases', () => {
    const differing = graded.filter(({ want, got }) => got.correct !== want.correct);
    const agreement = 1 - differing.length / graded.length;
    console.log(
      `agreement ${(agreement * 100).toFixed(1)}% on ${graded.length} cases; differing: ${differing.map(({ item }) => item.id).join(', ') || 'none'}`,
    );
    expect(agreement).toBeGreaterThanOrEqual(0.99);
  });

  it("differs in 'strict' grading only on the cases of the documented deviations", () => {
    const deviations = new Set([
      'answer-is',
      'sentence-after',
      'percentage',
      'equation',
      'interval',
      'extraction',
      'symbolic',
    ]);
    const strict = cases.map((item) => ({
      item,
      want: verdicts.get(item.id)!,
      got: gradeCompletion(item.completion, item.answer, item.task, { grading: 'strict' }),
    }));
    const differing = strict.filter(({ want, got }) => got.correct !== want.correct);
    const accuracy = (correct: number) => `${((100 * correct) / cases.length).toFixed(1)}%`;
    console.log(
      `harness ${accuracy(graded.filter(({ want }) => want.correct).length)}, rho-slm ${accuracy(graded.filter(({ got }) => got.correct).length)}, strict ${accuracy(strict.filter(({ got }) => got.correct).length)}; strict differs on ${differing.length}: ${differing.map(({ item }) => item.id).join(', ')}`,
    );
    expect(differing.filter(({ item }) => !deviations.has(item.category)).map(({ item }) => item.id)).toEqual(
      [],
    );
    expect(differing.length).toBeLessThanOrEqual(20);
  });
});

describe('isEquivalent agrees with the harness on every pair of a pool of answer spellings', () => {
  const pairs = lines('harness-pairs.jsonl') as { id: string; pred: string; ref: string }[];
  const pairVerdicts = new Map(
    (lines('harness-pair-verdicts.jsonl') as Verdict[]).map((verdict) => [verdict.id, verdict]),
  );

  it('normalises each answer to the same string and gives the same verdict on at least 99.5% of the pairs', () => {
    expect(pairs.length).toBeGreaterThan(5000);
    const differing = pairs.filter(({ id, pred, ref }) => {
      const want = pairVerdicts.get(id)!;
      expect([normalizeAnswer(pred), normalizeAnswer(ref)]).toEqual([want.pred, want.gt]);
      return isEquivalent(pred, ref) !== want.correct;
    });
    const equal = pairs.filter(({ id }) => pairVerdicts.get(id)!.correct).length;
    console.log(
      `pairs: ${pairs.length}, equal by the harness ${equal}, same verdict ${pairs.length - differing.length}: ${differing.map(({ id }) => id).join(', ') || 'all'}`,
    );
    expect(differing.length / pairs.length).toBeLessThanOrEqual(0.005);
  }, 60_000);
});
