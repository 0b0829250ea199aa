// Charts for the reports: a Vega-Lite spec drawn into static SVG (no scripts, no network).
import type { TokenCategories } from './demo/analysis.js';

/**
 * Renders a Vega-Lite spec (without `$schema`) to an SVG string.
 *
 * @example
 * ```ts
 * const svg = await svgChart({ data: { values }, mark: 'line', encoding: { x: { field: 'tokens', type: 'quantitative' } } });
 * ```
 */
export async function svgChart(spec: object): Promise<string> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(
    vega.parse(
      compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec } as never).spec,
    ),
    { renderer: 'none' },
  );
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/**
 * The held-out token-category chart of the demo and study reports: one stacked bar per run with the
 * shares of H→H, L→H, H→L and L→L tokens (see `tokenCategories`).
 *
 * @param shares - each run's category shares, by run name as shown
 * @param size - chart width and height in pixels
 */
export function tokenCategoryChart(
  shares: Record<string, TokenCategories>,
  size: { width: number; height: number },
): Promise<string> {
  return svgChart({
    title: 'Held-out token categories from the first evaluation on (slope of each token loss, ±0.2 nats)',
    ...size,
    data: {
      values: Object.entries(shares).flatMap(([run, categories]) =>
        Object.entries(categories).map(([category, share]) => ({ run, category, share })),
      ),
    },
    mark: 'bar',
    encoding: {
      y: { field: 'run', type: 'nominal', title: null },
      x: {
        field: 'share',
        type: 'quantitative',
        stack: 'normalize',
        axis: { format: '%' },
        title: 'share of held-out tokens',
      },
      color: { field: 'category', type: 'nominal', sort: ['H→H', 'L→H', 'H→L', 'L→L'] },
    },
  });
}
