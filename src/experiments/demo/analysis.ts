// The demo's analyses: how many tokens SLM needs to match plain CLM, and the Rho-1 paper's token
// categories (H→H, L→H, H→L, L→L) from each held-out token's loss over checkpoints.

/** A held-out loss measured after `tokens` training tokens. */
export interface CurvePoint {
  tokens: number;
  loss: number;
}

/**
 * Training tokens after which `curve` first reaches `target` (linear interpolation between
 * measurements), or `undefined` when it never does.
 */
export function tokensToReach(curve: readonly CurvePoint[], target: number): number | undefined {
  for (let i = 0; i < curve.length; i++) {
    const point = curve[i]!;
    if (point.loss > target) continue;
    const previous = curve[i - 1];
    if (previous === undefined) return point.tokens;
    const fraction = (previous.loss - target) / (previous.loss - point.loss);
    return previous.tokens + fraction * (point.tokens - previous.tokens);
  }
  return undefined;
}

/** Shares of held-out tokens in each category. */
export interface TokenCategories {
  'H→H': number;
  'L→H': number;
  'H→L': number;
  'L→L': number;
}

/**
 * Categorises each token by the least-squares slope of its loss over checkpoints, with training
 * progress scaled to [0, 1]: slope ≤ −0.2 nats is H→L (learned), ≥ +0.2 is L→H (forgotten), and
 * otherwise H→H or L→L by whether its mean loss is above the median of all tokens' mean losses.
 *
 * @param checkpoints - per checkpoint, the loss of every held-out token (same order)
 */
export function tokenCategories(checkpoints: readonly Float32Array[], threshold = 0.2): TokenCategories {
  const n = checkpoints.length;
  const tokens = checkpoints[0]?.length ?? 0;
  const counts = { 'H→H': 0, 'L→H': 0, 'H→L': 0, 'L→L': 0 };
  if (n < 2 || tokens === 0) return counts;
  const progress = Array.from({ length: n }, (_, k) => k / (n - 1));
  const meanProgress = 0.5;
  const spread = progress.reduce((sum, p) => sum + (p - meanProgress) ** 2, 0);
  const means = new Float64Array(tokens);
  const slopes = new Float64Array(tokens);
  for (let i = 0; i < tokens; i++) {
    let mean = 0;
    for (let k = 0; k < n; k++) mean += checkpoints[k]![i]!;
    mean /= n;
    let covariance = 0;
    for (let k = 0; k < n; k++) covariance += (progress[k]! - meanProgress) * (checkpoints[k]![i]! - mean);
    means[i] = mean;
    slopes[i] = covariance / spread;
  }
  const median = Float64Array.from(means).sort()[Math.floor(tokens / 2)]!;
  for (let i = 0; i < tokens; i++) {
    if (slopes[i]! <= -threshold) counts['H→L']++;
    else if (slopes[i]! >= threshold) counts['L→H']++;
    else if (means[i]! > median) counts['H→H']++;
    else counts['L→L']++;
  }
  return {
    'H→H': counts['H→H'] / tokens,
    'L→H': counts['L→H'] / tokens,
    'H→L': counts['H→L'] / tokens,
    'L→L': counts['L→L'] / tokens,
  };
}
