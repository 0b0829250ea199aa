import { describe, expect, it } from 'vitest';
import { tokenCategories, tokensToReach } from '../../src/experiments/demo/analysis.js';

describe('tokensToReach', () => {
  it('interpolates the first crossing and says never when there is none', () => {
    const curve = [
      { tokens: 0, loss: 5 },
      { tokens: 100, loss: 4 },
      { tokens: 200, loss: 3 },
      { tokens: 300, loss: 3.5 },
    ];
    expect(tokensToReach(curve, 3.5)).toBe(150);
    expect(tokensToReach(curve, 5)).toBe(0);
    expect(tokensToReach(curve, 2.9)).toBeUndefined();
  });
});

describe('tokenCategories', () => {
  it('classifies by the fitted slope (±0.2) and the median mean loss', () => {
    // Four tokens over three checkpoints: learned, forgotten, flat-high, flat-low.
    const checkpoints = [
      new Float32Array([3, 1, 4, 0.5]),
      new Float32Array([2, 1.5, 4, 0.5]),
      new Float32Array([1, 2, 4.1, 0.6]),
    ];
    expect(tokenCategories(checkpoints)).toEqual({ 'H→H': 0.25, 'L→H': 0.25, 'H→L': 0.25, 'L→L': 0.25 });
    expect(tokenCategories([new Float32Array([1])])).toEqual({ 'H→H': 0, 'L→H': 0, 'H→L': 0, 'L→L': 0 });
  });
});
