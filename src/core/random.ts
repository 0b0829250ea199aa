// Seeded pseudo-random numbers (mulberry32): small, fast, identical on every platform.

/** A generator of uniform doubles in the open interval (0, 1). */
export type UniformRandom = () => number;

/**
 * Creates a seeded generator of uniform doubles in (0, 1) (never exactly 0 or 1, so
 * `Math.log(u)` is always finite). Same seed, same sequence, on every platform.
 *
 * @param seed - any number; its low 32 bits are used
 * @example
 * ```ts
 * const random = createRandom(42);
 * random(); // 0.6011037519201636…
 * ```
 */
export function createRandom(seed: number): UniformRandom {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}
