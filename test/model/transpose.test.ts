import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transposeInto } from '../../src/model/transpose.js';

describe('transposeInto', () => {
  it('writes target[c·rows + r] = source[r·columns + c] for any shape, tile edges included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 150 }), (rows, columns) => {
        const source = Float32Array.from({ length: rows * columns }, (_, i) => i + 0.5);
        const target = new Float32Array(rows * columns).fill(Number.NaN);
        transposeInto(source, rows, columns, target);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < columns; c++) expect(target[c * rows + r]).toBe(source[r * columns + c]);
        const back = new Float32Array(rows * columns);
        transposeInto(target, columns, rows, back);
        expect(back).toEqual(source);
      }),
      { numRuns: 60 },
    );
  });

  it('writes into a view that starts inside a larger buffer', () => {
    const target = new Float32Array(new ArrayBuffer(6 * 4 + 64), 48, 6);
    transposeInto(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3, target);
    expect([...target]).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
