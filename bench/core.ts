// Core benchmarks: tokenLoss against the memory-read ceiling of one JS core, and O(n) topKMask
// against sort-based selection. Run with `npm run bench`.

import { markAboveCut } from '../src/core/topKMask.js';
import { createRandom, selectionCount, tokenLoss, topKMask } from '../src/index.js';
import { fmt, medianMs } from './timing.js';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
}

/** Sum of every element: the fastest a single JS loop reads a Float32Array. */
function readLoop(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum;
}

/** Top-k by sorting a copy of the scores for the threshold (native typed-array sort), then ties by index. */
function sortThresholdMask(scores: Float64Array, ratio: number): Uint8Array {
  const sorted = Float64Array.from(scores).sort();
  const keep = selectionCount(scores.length, ratio);
  const cut = sorted[scores.length - keep]!;
  const mask = new Uint8Array(scores.length);
  markAboveCut(scores, undefined, 0, scores.length, cut, keep, mask);
  return mask;
}

/** Top-k by sorting indices with a comparator: the idiomatic JavaScript way. */
function sortIndicesMask(scores: Float64Array, ratio: number): Uint8Array {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => scores[b]! - scores[a]! || a - b,
  );
  const mask = new Uint8Array(scores.length);
  for (const index of order.slice(0, selectionCount(scores.length, ratio))) mask[index] = 1;
  return mask;
}

/** Prints the core benchmark table and returns its figures. */
export function benchCore(): Record<string, number> {
  const random = createRandom(1);
  const tokens = 256;
  const vocab = 32_000;
  const logits = Float32Array.from({ length: tokens * vocab }, () => 3 * gaussian(random));
  const labels = Int32Array.from({ length: tokens }, () => Math.floor(random() * vocab));
  const out = new Float32Array(tokens);
  const out64 = new Float64Array(tokens);
  const readMs = medianMs(() => readLoop(logits));
  const lossMs = medianMs(() => tokenLoss(logits, labels, { out }));
  const loss64Ms = medianMs(() => tokenLoss(logits, labels, { out: out64 }));
  const rate = (ms: number) => fmt(logits.length / ms / 1e6);
  console.log(`tokenLoss   N=${tokens} V=${vocab} (logits ~ N(0, 3²))`);
  console.log(`  read loop                        ${rate(readMs)} G elements/s`);
  console.log(
    `  tokenLoss, float32 (wasm SIMD)   ${rate(lossMs)} G elements/s   ratio ${fmt(readMs / lossMs)} of the read loop (target ≥ 0.3)`,
  );
  console.log(
    `  tokenLoss, float64 (JavaScript)  ${rate(loss64Ms)} G elements/s   ratio ${fmt(readMs / loss64Ms)}`,
  );

  const n = 1_000_000;
  const scores = Float64Array.from({ length: n }, () => gaussian(random));
  const ratio = 0.6;
  const selectMs = medianMs(() => topKMask(scores, { ratio }));
  const sortThresholdMs = medianMs(() => sortThresholdMask(scores, ratio), 5);
  const sortIndicesMs = medianMs(() => sortIndicesMask(scores, ratio), 3);
  console.log(`topKMask    n=${n} ratio=${ratio}`);
  console.log(`  topKMask (Floyd–Rivest)         ${fmt(selectMs)} ms`);
  console.log(
    `  Float64Array sort + ties        ${fmt(sortThresholdMs)} ms   ×${fmt(sortThresholdMs / selectMs)} slower (target ≥ 5)`,
  );
  console.log(
    `  index sort with comparator      ${fmt(sortIndicesMs)} ms   ×${fmt(sortIndicesMs / selectMs)} slower`,
  );
  return {
    tokenLossOverRead: readMs / lossMs,
    sortThresholdOverSelect: sortThresholdMs / selectMs,
    sortIndicesOverSelect: sortIndicesMs / selectMs,
  };
}
