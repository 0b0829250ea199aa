import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memorySource, TokenWindows } from '../../src/pipeline/memoryWindows.js';

describe('memorySource', () => {
  it('gives each window its own inputs, next-token targets, reference losses and ignored targets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 2, max: 40 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        (T, windowsWanted, picks) => {
          const tokens = Int32Array.from({ length: windowsWanted * T + 1 }, (_, i) => 1000 + i);
          const windows = new TokenWindows(tokens, T);
          const ids = picks.map((p) => p % windows.count);
          const refLoss = Float32Array.from({ length: windows.count * T }, (_, i) => i / 10);
          const ignore = Uint8Array.from({ length: windows.count * T }, (_, i) => (i % 3 === 0 ? 1 : 0));
          const batch = memorySource(windows, { refLoss, ignore }).read(ids);
          ids.forEach((w, row) => {
            for (let t = 0; t < T; t++) {
              const position = w * T + t;
              expect(batch.inputs[row * T + t]).toBe(1000 + position);
              expect(batch.targets[row * T + t]).toBe(position % 3 === 0 ? -100 : 1000 + position + 1);
              expect(batch.refLoss![row * T + t]).toBeCloseTo(position / 10, 5);
            }
          });
        },
      ),
    );
  });

  it('leaves targets alone and carries no reference losses when given none', () => {
    const windows = new TokenWindows(Int32Array.from([5, 6, 7, 8, 9]), 2);
    const batch = memorySource(windows).read([1, 0]);
    expect(Array.from(batch.targets)).toEqual([8, 9, 6, 7]);
    expect(batch.refLoss).toBeUndefined();
  });
});
