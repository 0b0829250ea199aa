// Progress rates: nothing until a second has passed, then units per second since the first report.
import { describe, expect, it } from 'vitest';
import { rateMeter } from '../../src/cli/progress.js';

describe('rateMeter', () => {
  it('shows no rate for the first second, then counts from the first report (e.g. a resumed step)', () => {
    let now = 1_000;
    const rate = rateMeter(() => now);
    expect(rate(8)).toBe('–'); // 8 windows after 1 ms would read 8000/s
    now += 400;
    expect(rate(9)).toBe('–');
    now += 1_600;
    expect(rate(28)).toBe('10.0'); // (28 − 8) windows in 2 s
    now += 2_000;
    expect(rate(48)).toBe('10.0');
  });
});
