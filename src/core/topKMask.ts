// Top-k selection per group with ties to the lower index, in O(n).
import { checkArrayLike, checkNotNaN, checkRatio, type NumericArray } from './check.js';
import { checkValid, groupLength, type SelectionScope, type ValidMask } from './groups.js';
import { selectByRank } from './quickselect.js';

/** Options of {@link topKMask}. */
export interface TopKMaskOptions {
  /** Fraction of each group's valid tokens to keep, in `(0, 1]`. */
  ratio: number;
  /** Which positions may be selected, `[B·T]`; all when omitted. */
  valid?: ValidMask;
  /** Selection group. @default 'batch' */
  scope?: SelectionScope;
  /** Positions per sequence `T`; required when `scope` is `'sequence'`. */
  seqLen?: number;
}

/** What {@link selectTopK} selected. */
export interface TopKSelection {
  /** Tokens selected over all groups. */
  selected: number;
  /** Valid tokens over all groups. */
  total: number;
  /** Smallest score among selected tokens; `+Infinity` when nothing is selected. */
  threshold: number;
}

/**
 * How many of `validCount` tokens a group keeps: `clamp(floor(ratio·n + 0.5), 1, n)` (round half
 * up, at least one), and `0` when `n = 0`.
 *
 * @param validCount - valid tokens in the group, `n`
 * @param ratio - fraction to keep, in `(0, 1]`
 * @example
 * ```ts
 * selectionCount(5, 0.5); // 3
 * ```
 */
export function selectionCount(validCount: number, ratio: number): number {
  if (validCount === 0) return 0;
  return Math.min(validCount, Math.max(1, Math.floor(ratio * validCount + 0.5)));
}

let scratch = new Float64Array(1024);

/**
 * Marks the `keep` valid positions of `[start, end)` with score above `cut`, then equal to it in
 * index order, given that `cut` is the `keep`-th largest valid score there. Not part of the
 * package's API (the benchmark's sort baseline shares it).
 *
 * @internal
 */
export function markAboveCut(
  scores: NumericArray,
  valid: ValidMask | undefined,
  start: number,
  end: number,
  cut: number,
  keep: number,
  mask: Uint8Array,
): void {
  let missing = keep;
  for (let i = start; i < end; i++) {
    if ((valid === undefined || valid[i]) && scores[i]! > cut) {
      mask[i] = 1;
      missing--;
    }
  }
  for (let i = start; missing > 0 && i < end; i++) {
    if ((valid === undefined || valid[i]) && scores[i] === cut) {
      mask[i] = 1;
      missing--;
    }
  }
}

/**
 * Unchecked engine of {@link topKMask}: writes 0/1 into `mask` for groups of `groupSize`
 * consecutive positions. Inputs must have been validated by the caller.
 */
export function selectTopK(
  scores: NumericArray,
  valid: ValidMask | undefined,
  ratio: number,
  groupSize: number,
  mask: Uint8Array,
): TopKSelection {
  let selected = 0;
  let total = 0;
  let threshold = Number.POSITIVE_INFINITY;
  if (scratch.length < groupSize) scratch = new Float64Array(groupSize);
  for (let start = 0; start < scores.length; start += groupSize) {
    const end = start + groupSize;
    let validCount = 0;
    for (let i = start; i < end; i++) if (valid === undefined || valid[i]) scratch[validCount++] = scores[i]!;
    const keep = selectionCount(validCount, ratio);
    total += validCount;
    selected += keep;
    if (keep === 0) continue;
    const cut = selectByRank(scratch, validCount, validCount - keep);
    if (cut < threshold) threshold = cut;
    markAboveCut(scores, valid, start, end, cut, keep, mask);
  }
  return { selected, total, threshold };
}

/**
 * Marks the `k` highest-scoring valid tokens of each group, `k = selectionCount(n, ratio)`;
 * ties go to the lower flat index, so exactly `k` are marked and the mask is deterministic.
 * Runs in O(n) (Floyd–Rivest selection, no sort).
 *
 * Shapes: `scores` `[B·T]` (flat, `b·T + t`), `valid` `[B·T]`, result `[B·T]` of 0/1.
 *
 * @param scores - selection scores, e.g. {@link excessLoss}; `±Infinity` allowed, NaN not
 * @param options - see {@link TopKMaskOptions}
 * @returns 1 for selected tokens, 0 elsewhere, `[B·T]`
 * @throws {@link SLMError} `BAD_TYPE`, `SHAPE_MISMATCH`, `BAD_RATIO`, `BAD_OPTION`, `NON_FINITE`
 *
 * @example
 * ```ts
 * topKMask([0.3, 2.0, -1.0, 2.0], { ratio: 0.5 }); // Uint8Array [0, 1, 0, 1]
 * ```
 */
export function topKMask(scores: NumericArray, options: TopKMaskOptions): Uint8Array {
  const fn = 'topKMask';
  checkArrayLike(scores, fn, 'scores');
  checkRatio(options?.ratio, fn);
  checkValid(options.valid, scores.length, fn);
  const groupSize = groupLength(scores.length, options.scope ?? 'batch', options.seqLen, fn);
  checkNotNaN(scores, fn, 'scores');
  const mask = new Uint8Array(scores.length);
  selectTopK(scores, options.valid, options.ratio, groupSize, mask);
  return mask;
}
