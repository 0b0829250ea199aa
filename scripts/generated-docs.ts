// The README's and docs/study.md's generated blocks: the study paragraph and tables from the
// committed docs/study-run/study.json, the demo paragraph from docs/demo-run/report.json.
// `npm run docs:sync` rewrites them; test/docs/generated.test.ts fails when they differ.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { demoReadmeParagraph } from '../src/experiments/demo/report.js';
import type { DemoResult } from '../src/experiments/demo/run.js';
import { studyMarkdown, studyReadmeParagraph } from '../src/experiments/study/report.js';
import type { StudyResult } from '../src/experiments/study/run.js';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..');

/** One generated block: the file it lives in, its marker name and its contents. */
export interface GeneratedBlock {
  file: string;
  name: string;
  content: string;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(join(ROOT, path), 'utf8')) as T;
}

/** Every generated block, from the committed results. */
export async function generatedBlocks(): Promise<GeneratedBlock[]> {
  const study = await readJson<StudyResult>('docs/study-run/study.json');
  const demo = await readJson<DemoResult>('docs/demo-run/report.json');
  return [
    { file: 'README.md', name: 'study', content: studyReadmeParagraph(study) },
    { file: 'README.md', name: 'demo', content: demoReadmeParagraph(demo) },
    { file: 'docs/study.md', name: 'study-tables', content: studyMarkdown(study) },
  ];
}

function markers(name: string): [string, string] {
  return [`<!-- generated:${name} (npm run docs:sync) -->`, `<!-- /generated:${name} -->`];
}

/** The text between the markers of block `name` in `text`. */
export function blockOf(text: string, name: string): string | undefined {
  const [open, close] = markers(name);
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  return start < 0 || end < start ? undefined : text.slice(start + open.length + 1, end - 1);
}

/** `text` with block `name` replaced by `content`. */
export function withBlock(text: string, name: string, content: string): string {
  const [open, close] = markers(name);
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`no ${open} … ${close} block`);
  return `${text.slice(0, start + open.length)}\n${content}\n${text.slice(end)}`;
}

if (process.argv[1] === import.meta.filename) {
  for (const block of await generatedBlocks()) {
    const path = join(ROOT, block.file);
    await writeFile(path, withBlock(await readFile(path, 'utf8'), block.name, block.content));
    console.log(`${block.file}: ${block.name}`);
  }
}
