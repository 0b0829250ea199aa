// Each SLMError code provoked at the boundary, with a message naming function and argument.
import { describe, expect, it } from 'vitest';
import {
  excessLoss,
  SLMError,
  type SLMErrorCode,
  selectionScores,
  selectiveLoss,
  softSelectionWeights,
  tokenLoss,
  tokenLossGrad,
  topKMask,
} from '../../src/index.js';
import { expectSLMError } from '../helpers/errors.js';

const cases: [string, SLMErrorCode, RegExp, () => unknown][] = [
  [
    'logits not a whole number of rows',
    'SHAPE_MISMATCH',
    /'logits' passed to 'tokenLoss' has length 5/,
    () => tokenLoss(new Float32Array(5), [0, 1]),
  ],
  [
    'vocabSize disagrees',
    'SHAPE_MISMATCH',
    /V = 3/,
    () => tokenLoss(new Float32Array(4), [0, 1], { vocabSize: 3 }),
  ],
  [
    'refLoss length',
    'SHAPE_MISMATCH',
    /'refLoss' passed to 'excessLoss' has length 1, expected 2/,
    () => excessLoss([1, 2], [1]),
  ],
  [
    'weights length',
    'SHAPE_MISMATCH',
    /'weights' passed to 'tokenLossGrad'/,
    () => tokenLossGrad(new Float32Array(4), [0, 1], [1]),
  ],
  [
    'valid length',
    'SHAPE_MISMATCH',
    /'valid' passed to 'topKMask' has length 1, expected 3/,
    () => topKMask([1, 2, 3], { ratio: 0.5, valid: [1] }),
  ],
  [
    'labels length',
    'SHAPE_MISMATCH',
    /'labels' passed to 'selectiveLoss'/,
    () => selectiveLoss({ modelLoss: [1], refLoss: [1], labels: [1, 2] }),
  ],
  [
    'label ≥ V',
    'LABEL_OUT_OF_RANGE',
    /has 2 at index 1; expected an integer in \[0, 2\)/,
    () => tokenLoss(new Float32Array(4), [0, 2]),
  ],
  [
    'negative label',
    'LABEL_OUT_OF_RANGE',
    /has -1 at index 0/,
    () => tokenLoss(new Float32Array(4), [-1, 0]),
  ],
  [
    'fractional label',
    'LABEL_OUT_OF_RANGE',
    /has 0.5/,
    () => tokenLossGrad(new Float32Array(4), [0.5, 0], [1, 1]),
  ],
  [
    'ratio 0',
    'BAD_RATIO',
    /`ratio` passed to 'topKMask' is 0; expected a number in \(0, 1\]/,
    () => topKMask([1], { ratio: 0 }),
  ],
  ['ratio > 1', 'BAD_RATIO', /is 1.5/, () => selectiveLoss({ modelLoss: [1], refLoss: [1], ratio: 1.5 })],
  ['ratio NaN', 'BAD_RATIO', /is NaN/, () => topKMask([1], { ratio: Number.NaN })],
  ['missing options', 'BAD_RATIO', /undefined/, () => topKMask([1], undefined as never)],
  [
    'NaN logits',
    'NON_FINITE',
    /'logits' passed to 'tokenLoss' has NaN at row 0/,
    () => tokenLoss(new Float32Array([Number.NaN, 0]), [1]),
  ],
  [
    '+Infinity logit',
    'NON_FINITE',
    /Infinity at row 0, column 1/,
    () => tokenLossGrad(new Float32Array([0, Number.POSITIVE_INFINITY]), [0], [1]),
  ],
  [
    'Infinity refLoss',
    'NON_FINITE',
    /'refLoss' passed to 'selectiveLoss' has Infinity at index 1/,
    () => selectiveLoss({ modelLoss: [1, 1], refLoss: [1, Number.POSITIVE_INFINITY] }),
  ],
  [
    'NaN modelLoss',
    'NON_FINITE',
    /'modelLoss' passed to 'excessLoss' has NaN/,
    () => excessLoss([Number.NaN], [1]),
  ],
  [
    'NaN score',
    'NON_FINITE',
    /'scores' passed to 'topKMask' has NaN at index 2/,
    () => topKMask([1, 2, Number.NaN], { ratio: 0.5 }),
  ],
  [
    'NaN weight',
    'NON_FINITE',
    /'weights' passed to 'tokenLossGrad' has NaN/,
    () => tokenLossGrad(new Float32Array(2), [0], [Number.NaN]),
  ],
  [
    'unknown scope',
    'BAD_OPTION',
    /`scope` passed to 'topKMask' is "rows"; expected one of 'batch', 'sequence'/,
    () => topKMask([1], { ratio: 1, scope: 'rows' as never }),
  ],
  [
    'sequence without seqLen',
    'BAD_OPTION',
    /`seqLen`.*required for scope 'sequence'/,
    () => topKMask([1, 2], { ratio: 1, scope: 'sequence' }),
  ],
  [
    'seqLen not dividing',
    'BAD_OPTION',
    /`seqLen` passed to 'selectiveLoss' is 3/,
    () => selectiveLoss({ modelLoss: [1, 2, 3, 4], refLoss: [1, 2, 3, 4], seqLen: 3 }),
  ],
  [
    'unknown strategy',
    'BAD_OPTION',
    /`strategy` passed to 'selectiveLoss' is "best"/,
    () => selectiveLoss({ modelLoss: [1], refLoss: [1], strategy: 'best' as never }),
  ],
  [
    'missing refLoss',
    'BAD_OPTION',
    /`refLoss` passed to 'selectiveLoss' is missing; it is required by strategy 'excess'/,
    () => selectiveLoss({ modelLoss: [1] }),
  ],
  [
    'bad temperature',
    'BAD_OPTION',
    /`temperature` passed to 'softSelectionWeights' is 0/,
    () => softSelectionWeights([1], { temperature: 0 }),
  ],
  [
    'weights with random',
    'BAD_OPTION',
    /with output 'weights'/,
    () => selectiveLoss({ modelLoss: [1], strategy: 'random', output: 'weights' }),
  ],
  [
    'unknown output',
    'BAD_OPTION',
    /`output`/,
    () => selectiveLoss({ modelLoss: [1], refLoss: [1], output: 'soft' as never }),
  ],
  [
    'strategy to selectionScores',
    'BAD_OPTION',
    /'selectionScores'/,
    () => selectionScores('nope' as never, { modelLoss: [1] }),
  ],
  [
    'logits as number[]',
    'BAD_TYPE',
    /'logits' passed to 'tokenLoss' must be a Float32Array or Float64Array/,
    () => tokenLoss([1, 2] as never, [0]),
  ],
  [
    'scores not an array',
    'BAD_TYPE',
    /'scores' passed to 'topKMask' must be an array or typed array, got a value of type string/,
    () => topKMask('abc' as never, { ratio: 1 }),
  ],
  [
    'modelLoss null',
    'BAD_TYPE',
    /'modelLoss' passed to 'selectiveLoss'.*got null/,
    () => selectiveLoss({ modelLoss: null as never, refLoss: [] }),
  ],
];

describe('SLMError', () => {
  it.each(cases)('%s → %s', (_name, code, message, run) => {
    expectSLMError(run, code, message);
  });

  it('provokes every code', () => {
    const codes: SLMErrorCode[] = [
      'SHAPE_MISMATCH',
      'LABEL_OUT_OF_RANGE',
      'BAD_RATIO',
      'NON_FINITE',
      'BAD_OPTION',
      'BAD_TYPE',
    ];
    expect(new Set(cases.map(([, code]) => code))).toEqual(new Set(codes));
  });

  it('instanceof matches an SLMError from another copy of the class, and nothing else', () => {
    class OtherBuildSLMError extends Error {
      readonly code = 'NODE_ONLY';
      override name = 'SLMError';
    }
    expect(new OtherBuildSLMError('x')).toBeInstanceOf(SLMError);
    expect(new SLMError('BAD_RATIO', 'x')).toBeInstanceOf(SLMError);
    expect(new SLMError('BAD_RATIO', 'x')).toBeInstanceOf(Error);
    expect(Object.assign(new Error('x'), { code: 'BAD_RATIO' })).not.toBeInstanceOf(SLMError);
    expect({ name: 'SLMError', code: 'BAD_RATIO', message: 'x' }).not.toBeInstanceOf(SLMError);
  });
});
