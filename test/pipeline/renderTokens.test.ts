// Terminal rendering of an inspected window: colour codes only when asked for.
import { describe, expect, it } from 'vitest';
import type { InspectedToken } from '../../src/pipeline/inspect.js';
import { renderTerminal } from '../../src/pipeline/renderTokens.js';

const tokens = [
  { text: 'a b', selected: true, excess: 2 },
  { text: '\n', selected: false, excess: -1 },
  { text: 'c', selected: true, excess: 0.5 },
] as InspectedToken[];

describe('renderTerminal', () => {
  it('without colour: plain text, selected tokens bracketed, no escape codes', () => {
    const text = renderTerminal(tokens, { color: false });
    expect(text).toBe('[a·b]↵[c]\n2/3 tokens selected (in [brackets])\n');
  });

  it('with colour (the default): a background per token, selected ones underlined', () => {
    const text = renderTerminal(tokens);
    expect(text.split('\u001b[48;2;')).toHaveLength(4); // three backgrounds
    expect(text.split('\u001b[4m')).toHaveLength(3); // two underlines
    expect(text).toMatch(/2\/3 tokens selected \(underlined\)/);
  });
});
