// Simple float64 reference implementations (Math.exp, full sort) the fast core is checked against.

/** Per-token cross-entropy in float64 with Math.exp; 0 where the label is `ignoreIndex`. */
export function referenceTokenLoss(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  ignoreIndex = -100,
): number[] {
  const vocab = logits.length / labels.length;
  return Array.from(labels, (label, i) => {
    if (label === ignoreIndex) return 0;
    const row = Array.from({ length: vocab }, (_, j) => logits[i * vocab + j]!);
    const max = Math.max(...row);
    const sum = row.reduce((acc, x) => acc + Math.exp(x - max), 0);
    return Math.log(sum) + max - row[label]!;
  });
}

/** Top-k mask by a full stable sort on (score descending, index ascending), per group. */
export function referenceTopKMask(
  scores: ArrayLike<number>,
  ratio: number,
  valid: ArrayLike<number | boolean> | undefined,
  groupSize: number,
): Uint8Array {
  const mask = new Uint8Array(scores.length);
  for (let start = 0; start < scores.length; start += groupSize) {
    const indices: number[] = [];
    for (let i = start; i < start + groupSize; i++) if (valid === undefined || valid[i]) indices.push(i);
    indices.sort((a, b) => scores[b]! - scores[a]! || a - b);
    const n = indices.length;
    const k = n === 0 ? 0 : Math.min(n, Math.max(1, Math.floor(ratio * n + 0.5)));
    for (const index of indices.slice(0, k)) mask[index] = 1;
  }
  return mask;
}
