// Charts for the reports: a Vega-Lite spec drawn into static SVG (no scripts, no network).

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
