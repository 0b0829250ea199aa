// The playground's loss chart: axes with ticks inside the data's range, labels and a legend.
import { describe, expect, it } from 'vitest';
import { lossChart } from '../../playground/chart.js';

const series = [
  { label: 'CLM: every token', colour: '#4c78a8', values: [5.5, 4.1, 3.3, 3.1] },
  { label: 'SLM: top 60%', colour: '#f58518', values: [5.5, 4.0, 3.4, 3.2] },
];

describe('lossChart', () => {
  it('draws one line per run through every point, a legend entry each, and both axis labels', () => {
    const svg = lossChart(series, 10);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    for (const points of svg.matchAll(/points="([^"]+)"/g)) expect(points[1]!.split(' ')).toHaveLength(4);
    expect(svg.match(/class="legend-entry"/g)).toHaveLength(2);
    for (const text of [
      'CLM: every token',
      'SLM: top 60%',
      'training steps',
      'held-out loss (nats per byte)',
    ])
      expect(svg).toContain(`>${text}</text>`);
  });

  it('labels the x axis in steps (0 to 30 for four points 10 apart) and the y axis with round losses in range', () => {
    const svg = lossChart(series, 10);
    const labels = [...svg.matchAll(/text-anchor="(?:middle|end)">([\d.]+)<\/text>/g)].map((m) =>
      Number(m[1]),
    );
    expect(labels).toEqual(expect.arrayContaining([0, 10, 20, 30]));
    const yLabels = [...svg.matchAll(/text-anchor="end">([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
    expect(yLabels.length).toBeGreaterThanOrEqual(4);
    for (const value of yLabels) {
      expect(value).toBeGreaterThanOrEqual(3.1);
      expect(value).toBeLessThanOrEqual(5.5);
      expect(Math.round(value * 2) / 2).toBeCloseTo(value, 10); // steps of 0.5 for this range
    }
  });
});
