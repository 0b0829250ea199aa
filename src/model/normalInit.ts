// Seeded normal initial weights, fast: the same numbers as tf.randomNormal(shape, 0, stdDev,
// 'float32', seed) (seedrandom's Alea generator and the Marsaglia polar method, in tfjs's order of
// operations), written straight into a Float32Array in one tight loop instead of one method call
// per element. At TinyLlama-1.1B's size this is most of `LlamaModel.create`'s time.

/**
 * seedrandom's Mash hash, which seeds Alea: returns a function of strings to [0, 1).
 * Self-contained (no outside names): its source also runs in worker threads.
 */
export function mash(): (data: string) => number {
  let n = 0xefc8249d;
  return (data) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
}

/**
 * `count` samples of N(0, stdDev²) rounded to float32, equal element for element to
 * `tf.randomNormal([count], 0, stdDev, 'float32', seed)` for a seed ≠ 0.
 *
 * @param count - number of samples `[N]`
 * @param stdDev - standard deviation
 * @param seed - a non-zero integer (tfjs draws a random seed for 0; this function does not)
 * @example
 * ```ts
 * const values = normalSamples(4096, 0.02, 7);
 * ```
 */
export function normalSamples(count: number, stdDev: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  fillNormal(out, stdDev, seed);
  return out;
}

/**
 * Fills `out` with `normalSamples(out.length, stdDev, seed)`. Self-contained apart from
 * {@link mash}: its source also runs in worker threads (see normalStreams.ts).
 */
export function fillNormal(out: Float32Array, stdDev: number, seed: number): void {
  const count = out.length;
  const hash = mash();
  let s0 = hash(' ');
  let s1 = hash(' ');
  let s2 = hash(' ');
  const key = String(seed);
  s0 -= hash(key);
  if (s0 < 0) s0 += 1;
  s1 -= hash(key);
  if (s1 < 0) s1 += 1;
  s2 -= hash(key);
  if (s2 < 0) s2 += 1;
  // Alea's step, inlined (a closure over these would keep them in a heap context: 1.5× slower).
  let c = 1;
  let t = 0;
  const mean = 0;
  for (let i = 0; i < count; i += 2) {
    let v1: number;
    let v2: number;
    let s: number;
    do {
      t = 2091639 * s0 + c * 2.3283064365386963e-10;
      s0 = s1;
      s1 = s2;
      c = t | 0;
      s2 = t - c;
      v1 = 2 * s2 - 1;
      t = 2091639 * s0 + c * 2.3283064365386963e-10;
      s0 = s1;
      s1 = s2;
      c = t | 0;
      s2 = t - c;
      v2 = 2 * s2 - 1;
      s = v1 * v1 + v2 * v2;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2.0 * Math.log(s)) / s);
    out[i] = mean + stdDev * v1 * factor;
    if (i + 1 < count) out[i + 1] = mean + stdDev * v2 * factor;
  }
}
