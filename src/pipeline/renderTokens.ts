// Inspected tokens as terminal colours or a self-contained HTML page: red for high excess loss
// (selected for training), blue for low; selected tokens underlined (terminal) or outlined (HTML).
import type { InspectedToken } from './inspectedTokens.js';

/** A colour for `excess` relative to the largest magnitude: red above 0, blue below. */
function heat(excess: number, scale: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, excess / (scale || 1)));
  return t >= 0
    ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))]
    : [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255];
}

function visible(text: string): string {
  return text.replace(/\n/g, '↵').replace(/\t/g, '→').replace(/ /g, '·');
}

function scaleOf(tokens: readonly InspectedToken[]): number {
  return tokens.reduce((max, token) => Math.max(max, Math.abs(token.excess)), 0);
}

/** Options of {@link renderTerminal}. */
export interface RenderTerminalOptions {
  /** ANSI colours; without them selected tokens are bracketed `[…]`. @default true */
  color?: boolean;
}

/**
 * The tokens as terminal text: with colour, a 24-bit background by excess loss and selected tokens
 * underlined; without, plain text with selected tokens in brackets. Then a legend line.
 *
 * @param tokens - the tokens of a window, from `inspectWindow`
 * @param options - see {@link RenderTerminalOptions}
 */
export function renderTerminal(
  tokens: readonly InspectedToken[],
  options: RenderTerminalOptions = {},
): string {
  const color = options.color ?? true;
  const scale = scaleOf(tokens);
  const body = tokens
    .map((token) => {
      if (!color) return token.selected ? `[${visible(token.text)}]` : visible(token.text);
      const [r, g, b] = heat(token.excess, scale);
      return `\x1b[48;2;${r};${g};${b}m\x1b[38;2;0;0;0m${token.selected ? '\x1b[4m' : ''}${visible(token.text)}\x1b[0m`;
    })
    .join('');
  const selected = tokens.filter((token) => token.selected).length;
  const legend = color ? 'underlined); red = high excess loss, blue = low' : 'in [brackets])';
  return `${body}\n${selected}/${tokens.length} tokens selected (${legend}\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** CSS for {@link renderTokenSpans}. */
export const TOKEN_STYLE = `.token { padding: 1px 0; }
.selected { outline: 2px solid #222; outline-offset: -1px; }
.legend span { display: inline-block; padding: 0 .5rem; margin-right: .5rem; }`;

/** The tokens as coloured `<span>`s with hover details, followed by a legend line. */
export function renderTokenSpans(tokens: readonly InspectedToken[]): string {
  const scale = scaleOf(tokens);
  const spans = tokens
    .map((token) => {
      const [r, g, b] = heat(token.excess, scale);
      const tip = `id ${token.id} · L_θ ${token.modelLoss.toFixed(3)} · L_ref ${token.refLoss.toFixed(3)} · excess ${token.excess.toFixed(3)}${token.selected ? ' · selected' : ''}`;
      return `<span class="${token.selected ? 'token selected' : 'token'}" style="background:rgb(${r},${g},${b})" title="${escapeHtml(tip)}">${escapeHtml(visible(token.text))}</span>`;
    })
    .join('');
  return `<p class="legend"><span style="background:rgb(255,0,0)">high excess loss</span><span style="background:rgb(0,0,255);color:#fff">low excess loss</span><span class="selected">selected for training</span></p>
<p>${spans}</p>
<p>${tokens.filter((token) => token.selected).length} of ${tokens.length} tokens selected. Hover a token for its losses.</p>`;
}

/** A self-contained HTML page (no scripts, no network) of the tokens with hover details. */
export function renderHtml(tokens: readonly InspectedToken[], title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font: 15px/1.8 ui-monospace, monospace; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
${TOKEN_STYLE}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
${renderTokenSpans(tokens)}
</body></html>
`;
}

/** Escapes text for HTML. */
export { escapeHtml };
