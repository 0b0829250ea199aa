// The held-out loss chart: one line per run, axes with ticks and labels, and a legend, as static SVG.

/** One line of the chart. */
export interface ChartSeries {
  /** Legend text. */
  label: string;
  /** Line colour. */
  colour: string;
  /** Held-out loss after 0, `stepsPerPoint`, 2·`stepsPerPoint`, … steps. */
  values: number[];
}

const WIDTH = 560;
const HEIGHT = 260;
const LEFT = 56;
const RIGHT = 16;
const TOP = 16;
const BOTTOM = 44;

/** Four to ten round tick values (steps of 1, 2 or 5 × 10ⁿ) inside `[low, high]`. */
function ticks(low: number, high: number): number[] {
  const raw = (high - low || 1) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const values: number[] = [];
  for (let v = Math.ceil(low / step) * step; v <= high + 1e-9; v += step) values.push(Number(v.toFixed(10)));
  return values;
}

/**
 * An SVG line chart of held-out loss (y) against training steps (x), with axis ticks, axis labels
 * and a legend naming each run.
 */
export function lossChart(series: ChartSeries[], stepsPerPoint: number): string {
  const values = series.flatMap((s) => s.values);
  const yTicks = ticks(Math.min(...values), Math.max(...values));
  const [low, high] = [Math.min(yTicks[0]!, ...values), Math.max(yTicks.at(-1)!, ...values)];
  const lastStep = Math.max(1, (Math.max(...series.map((s) => s.values.length)) - 1) * stepsPerPoint);
  const x = (step: number) => LEFT + (step / lastStep) * (WIDTH - LEFT - RIGHT);
  const y = (loss: number) => TOP + (1 - (loss - low) / (high - low || 1)) * (HEIGHT - TOP - BOTTOM);
  const bottom = HEIGHT - BOTTOM;
  const xTicks = ticks(0, lastStep).filter((step) => Number.isInteger(step));
  const parts = [
    `<line x1="${LEFT}" y1="${bottom}" x2="${WIDTH - RIGHT}" y2="${bottom}" stroke="#555"/>`,
    `<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${bottom}" stroke="#555"/>`,
    ...yTicks.map(
      (v) =>
        `<line x1="${LEFT - 4}" y1="${y(v)}" x2="${WIDTH - RIGHT}" y2="${y(v)}" stroke="#eee"/><text x="${LEFT - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    ),
    ...xTicks.map(
      (step) =>
        `<line x1="${x(step)}" y1="${bottom}" x2="${x(step)}" y2="${bottom + 4}" stroke="#555"/><text x="${x(step)}" y="${bottom + 18}" text-anchor="middle">${step}</text>`,
    ),
    `<text x="${(LEFT + WIDTH - RIGHT) / 2}" y="${HEIGHT - 6}" text-anchor="middle">training steps</text>`,
    `<text transform="translate(14 ${(TOP + bottom) / 2}) rotate(-90)" text-anchor="middle">held-out loss (nats per byte)</text>`,
    ...series.map(
      (s) =>
        `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${s.values.map((v, i) => `${x(i * stepsPerPoint)},${y(v)}`).join(' ')}"/>`,
    ),
    ...series.map(
      (s, i) =>
        `<g class="legend-entry"><line x1="${WIDTH - RIGHT - 250}" y1="${TOP + 8 + i * 18}" x2="${WIDTH - RIGHT - 226}" y2="${TOP + 8 + i * 18}" stroke="${s.colour}" stroke-width="3"/><text x="${WIDTH - RIGHT - 220}" y="${TOP + 12 + i * 18}">${s.label}</text></g>`,
    ),
  ];
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-size="12" font-family="system-ui, sans-serif" role="img" aria-label="held-out loss against training steps"><title>Held-out loss against training steps</title>${parts.join('')}</svg>`;
}
