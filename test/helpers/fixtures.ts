// The float64 golden cases of docs/semantics.md (test/fixtures/slm-golden.json, recomputed by golden.py).
import { readFileSync } from 'node:fs';

/** A `select` case: scores, valid, ratio, scope → mask. */
export interface SelectCase {
  kind: 'select';
  B: number;
  T: number;
  ratio: number;
  scope: 'batch' | 'sequence';
  scores: number[];
  valid: number[];
  mask: number[];
}

/** A `loss` case: logits, labels, refLoss → every intermediate and the gradient. */
export interface LossCase {
  kind: 'loss';
  B: number;
  T: number;
  V: number;
  ratio: number;
  scope: 'batch' | 'sequence';
  ignoreIndex: number;
  logits: number[];
  labels: number[];
  refLoss: number[];
  tokenLoss: number[];
  excess: number[];
  mask: number[];
  selected: number;
  valid: number;
  loss: number;
  gradLogits: number[];
}

const golden = JSON.parse(readFileSync(new URL('../fixtures/slm-golden.json', import.meta.url), 'utf8')) as {
  cases: (SelectCase | LossCase)[];
};

/** Every golden case with a readable name. */
export const goldenCases = golden.cases.map((testCase, index) => ({
  name: `#${index} ${testCase.kind} B=${testCase.B} T=${testCase.T} ratio=${testCase.ratio} ${testCase.scope}`,
  testCase,
}));

/** The golden `select` cases. */
export const selectCases = goldenCases.filter(
  (c): c is { name: string; testCase: SelectCase } => c.testCase.kind === 'select',
);
/** The golden `loss` cases. */
export const lossCases = goldenCases.filter(
  (c): c is { name: string; testCase: LossCase } => c.testCase.kind === 'loss',
);

/** Tolerances written in docs/semantics.md. */
export const GOLDEN_TOLERANCE = { lossRel: 1e-5, gradAbs: 1e-6 } as const;
