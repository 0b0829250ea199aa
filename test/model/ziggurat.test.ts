import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillZiggurat, zigguratSimd } from '../../src/model/ziggurat.js';

const simd = zigguratSimd();

/** Φ, the standard normal CDF, in float64: ½·erfc(|x|/√2) by erf's series below 3, erfc's continued fraction above. */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  let erfc: number;
  if (z < 3) {
    // erf by its Maclaurin series.
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    erfc = 1 - (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc by its continued fraction (Lentz).
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (z + f);
    erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
  }
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** The float32 bits of `values`. */
const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

describe('fillZiggurat', () => {
  it('runs its rounds in WebAssembly SIMD here, with the same numbers as scalar code, across chunks and partial rounds', () => {
    expect(simd).not.toBeNull(); // Node 20 has WebAssembly SIMD: the fast path is what the other tests test
    for (const count of [0, 1, 2, 3, 4, 5, 4 * 16384 - 1, 4 * 16384 + 3, 2 * 4 * 16384 + 2]) {
      for (const seed of [0, 1, -7, 2 ** 31 - 1]) {
        const [fast, scalar] = [new Float32Array(count), new Float32Array(count)];
        fillZiggurat(fast, 0.02, seed, simd);
        fillZiggurat(scalar, 0.02, seed, null);
        expect(bitsOf(fast), `${count} samples, seed ${seed}`).toEqual(bitsOf(scalar));
      }
    }
  });

  it('draws N(0, σ²): Kolmogorov–Smirnov on 10⁶ samples and the first four moments', () => {
    const n = 1_000_000;
    const values = new Float32Array(n);
    fillZiggurat(values, 1, 2024, simd);
    const sorted = Float64Array.from(values).sort();
    let distance = 0;
    for (let i = 0; i < n; i++) {
      const cdf = normalCdf(sorted[i]!);
      distance = Math.max(distance, Math.abs(cdf - i / n), Math.abs(cdf - (i + 1) / n));
    }
    // √n·D > 1.95 has probability 0.001 for a sample of the distribution.
    expect(Math.sqrt(n) * distance).toBeLessThan(1.95);
    let [sum, squares, fourth] = [0, 0, 0];
    for (const value of values) {
      sum += value;
      squares += value ** 2;
      fourth += value ** 4;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.005); // 5 standard errors
    expect(Math.abs(squares / n - 1)).toBeLessThan(0.007); // var of x² is 2: 5 s.e.
    expect(Math.abs(fourth / n - 3)).toBeLessThan(0.05); // var of x⁴ is 96: 5 s.e.
  });

  it('has the normal density everywhere, wedges and tails included: χ² on 16 M samples in 0.05-wide bins', () => {
    const n = 16_000_000;
    const values = new Float32Array(n);
    fillZiggurat(values, 1, 77, simd);
    // Bins of width 0.05 on [−5, 5) and one beyond each end.
    const bins = 200;
    const counts = new Float64Array(bins + 2);
    for (const value of values)
      counts[Math.min(bins + 1, Math.max(0, Math.floor((value + 5) / 0.05) + 1))]!++;
    let chiSquare = 0;
    for (let bin = 0; bin < bins + 2; bin++) {
      const low = bin === 0 ? -Infinity : -5 + (bin - 1) * 0.05;
      const high = bin === bins + 1 ? Infinity : -5 + bin * 0.05;
      const expected =
        n * ((high === Infinity ? 1 : normalCdf(high)) - (low === -Infinity ? 0 : normalCdf(low)));
      chiSquare += (counts[bin]! - expected) ** 2 / expected;
    }
    // 201 degrees of freedom: mean 201, s.d. 20; 300 is 5 s.d. above.
    expect(chiSquare).toBeLessThan(300);
    // |x| > r = 3.6542 only from the tail's own sampler: P = 2.5803e-4, 4,128 expected, s.e. 64.
    const tail = values.reduce((count, value) => count + (Math.abs(value) > 3.6541528853610088 ? 1 : 0), 0);
    expect(Math.abs(tail - n * 2.5803e-4)).toBeLessThan(5 * 64);
  });

  it("draws a seed's pieces as unrelated streams: their correlations within 5 standard errors of 0", () => {
    const n = 2 ** 18;
    const pieces = [0, 1, 2, 3, 1000].map((piece) => {
      const values = new Float32Array(n);
      fillZiggurat(values, 1, 12345, simd, piece);
      return values;
    });
    for (let a = 0; a < pieces.length; a++)
      for (let b = a + 1; b < pieces.length; b++) {
        let product = 0;
        for (let i = 0; i < n; i++) product += pieces[a]![i]! * pieces[b]![i]!;
        // the mean of xᵢ·yᵢ for independent N(0, 1) has standard error 1/√n
        expect(Math.abs(product / n) * Math.sqrt(n), `pieces ${a} and ${b}`).toBeLessThan(5);
      }
  });

  it('scales by σ, and one seed and piece give one stream: equal for equal pairs, different for others', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 2 ** 20 }),
        (count, seed, piece) => {
          const [unit, scaled, again, other, pieceOf, pieceScalar] = [1, 4, 1, 1, 1, 1].map(
            () => new Float32Array(count),
          );
          fillZiggurat(unit!, 1, seed, simd); // piece 0
          fillZiggurat(scaled!, 4, seed, simd);
          fillZiggurat(again!, 1, seed, null, 0); // scalar code only: the same numbers
          fillZiggurat(other!, 1, seed + 1, simd);
          fillZiggurat(pieceOf!, 1, seed, simd, piece);
          fillZiggurat(pieceScalar!, 1, seed, null, piece);
          expect(bitsOf(again!)).toEqual(bitsOf(unit!));
          expect(bitsOf(pieceScalar!)).toEqual(bitsOf(pieceOf!));
          expect(Array.from(scaled!)).toEqual(Array.from(unit!, (value) => 4 * value)); // exact: a power of 2
          expect(Array.from(other!)).not.toEqual(Array.from(unit!));
          expect(Array.from(pieceOf!)).not.toEqual(Array.from(unit!));
          expect(unit!.every(Number.isFinite)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });
});
