// Means, sample standard deviations, and seed-paired differences with their Student-t 95 % confidence
// intervals and the verdict words the study fixes in advance (docs/study.md).

/** Mean of `values` (NaN when empty), summed in order in doubles. */
export function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

/** Sample standard deviation of `values` (0 for fewer than two). */
export function sdOf(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = meanOf(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1));
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-13). */
function logGamma(x: number): number {
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const numerator of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b), 0 ≤ x ≤ 1. */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  // P(|T| > |t|) = I_x(df/2, 1/2) with x = df/(df+t²); near t = 0 through 1 − I_(1−x)(1/2, df/2), with 1 − x = t²/(df+t²) computed directly.
  const x = df / (df + t * t);
  const tail =
    0.5 *
    (x > 0.5 ? 1 - incompleteBeta((t * t) / (df + t * t), 0.5, df / 2) : incompleteBeta(x, df / 2, 0.5));
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The `p` quantile of Student's t with `df` degrees of freedom (bisection on the CDF to 1e-12).
 *
 * @example
 * ```ts
 * studentTQuantile(0.975, 4); // 2.776…
 * ```
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0))
    throw new RangeError(`studentTQuantile: need 0 < p < 1 and df > 0, got p=${p}, df=${df}`);
  let [low, high] = [-1e4, 1e4];
  while (high - low > 1e-12 * Math.max(1, Math.abs(high))) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, df) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** Verdict words, fixed before any run: the interval excludes 0 in SLM's favour, against it, or neither. */
export type Verdict = 'holds' | 'reversed' | 'no clear difference';

/** Mean and 95 % interval of seed-paired differences (SLM − other; negative favours SLM). */
export interface PairedInterval {
  /** Number of seed pairs. */
  n: number;
  /** Mean difference. */
  mean: number;
  /** Student-t 95 % confidence interval with n − 1 degrees of freedom; `null` with fewer than 2 pairs. */
  ci95: [number, number] | null;
  /** What the interval says about "SLM is lower". */
  verdict: Verdict;
}

/**
 * The mean of `differences` with its Student-t 95 % interval, and the verdict: `holds` when the
 * interval lies below 0, `reversed` when it lies above 0, `no clear difference` otherwise (and
 * always with fewer than two pairs).
 *
 * @example
 * ```ts
 * pairedInterval([-0.1, -0.12, -0.08]).verdict; // 'holds'
 * ```
 */
export function pairedInterval(differences: readonly number[]): PairedInterval {
  const n = differences.length;
  const mean = meanOf(differences);
  if (n < 2) return { n, mean, ci95: null, verdict: 'no clear difference' };
  const variance = differences.reduce((sum, d) => sum + (d - mean) ** 2, 0) / (n - 1);
  const half = studentTQuantile(0.975, n - 1) * Math.sqrt(variance / n);
  const ci95: [number, number] = [mean - half, mean + half];
  const verdict: Verdict = ci95[1] < 0 ? 'holds' : ci95[0] > 0 ? 'reversed' : 'no clear difference';
  return { n, mean, ci95, verdict };
}
