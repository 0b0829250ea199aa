import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blockOf, generatedBlocks, ROOT, withBlock } from '../../scripts/generated-docs.js';
import type { StudyResult } from '../../src/experiments/study/run.js';
import { STUDY_SETTINGS } from '../../src/experiments/study/settings.js';

describe('numbers in the README and docs come from the committed runs', () => {
  it.each(['study', 'demo', 'study-tables'])(
    'block %s matches what its committed result generates',
    async (name) => {
      const block = (await generatedBlocks()).find((b) => b.name === name)!;
      const text = await readFile(join(ROOT, block.file), 'utf8');
      expect(blockOf(text, name), `run npm run docs:sync`).toBe(block.content);
    },
  );

  it("the committed study ran with the code's default settings", async () => {
    const study = JSON.parse(await readFile(join(ROOT, 'docs/study-run/study.json'), 'utf8')) as StudyResult;
    const {
      levels,
      corpus: {
        reference: _tokens,
        referenceBytes,
        validationTokens: _v,
        heldOutTokens: _h,
        description: _d,
        ...corpus
      },
      ...settings
    } = study.settings;
    expect({
      ...settings,
      levels: levels.map((level) => level.emailShare),
      corpus: { ...corpus, reference: referenceBytes },
    }).toEqual(JSON.parse(JSON.stringify(STUDY_SETTINGS.default)));
  });

  it('replaces a block and reads it back', () => {
    const text = 'a\n<!-- generated:x (npm run docs:sync) -->\nold\n<!-- /generated:x -->\nb';
    const replaced = withBlock(text, 'x', 'new\ntext');
    expect(blockOf(replaced, 'x')).toBe('new\ntext');
    expect(replaced.startsWith('a\n') && replaced.endsWith('\nb')).toBe(true);
    expect(() => withBlock('no markers', 'x', '')).toThrow(/no <!-- generated:x/);
  });
});
