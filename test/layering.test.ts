// The module structure: layers import only downwards, no two modules import each other, and the
// browser builds of rho-slm/model and rho-slm/data reach no Node built-in.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every source file with the modules it imports: `local` (relative, types too), `runtime` (relative, not type-only), `external`. */
function importGraph(): Map<string, { local: string[]; runtime: string[]; external: string[] }> {
  const files: string[] = [];
  const walk = (directory: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) files.push(path);
    }
  };
  walk('src');
  return new Map(
    files.map((file) => {
      const text = readFileSync(file, 'utf8') // without comments: doc examples show imports too
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      const pattern = /(import|export)( type)?[^;]*? from\s*'([^']+)'|import\(\s*'([^']+)'\)/g;
      const found = [...text.matchAll(pattern)].map((m) => ({
        specifier: (m[3] ?? m[4])!,
        typeOnly: m[2] !== undefined,
      }));
      const toFile = (s: string) => relative('.', resolve(dirname(file), s.replace(/\.js$/, '.ts')));
      const local = found.filter(
        ({ specifier }) => specifier.startsWith('.') && !specifier.endsWith('.json'),
      );
      return [
        file,
        {
          local: local.map(({ specifier }) => toFile(specifier)),
          runtime: local.filter(({ typeOnly }) => !typeOnly).map(({ specifier }) => toFile(specifier)),
          external: found
            .filter(({ specifier }) => !specifier.startsWith('.'))
            .map(({ specifier }) => specifier),
        },
      ];
    }),
  );
}

const graph = importGraph();
/** `src/<layer>/…`; files directly in src are entry barrels above every layer. */
const layerOf = (file: string) => (file.split('/').length > 2 ? file.split('/')[1]! : 'entry');

/** Layers each layer may import (besides itself). */
const allowed: Record<string, string[]> = {
  core: [],
  io: ['core'],
  heap: [],
  data: ['core', 'io'],
  tfjs: ['core', 'heap'],
  model: ['core', 'io', 'heap', 'tfjs'],
  eval: ['core', 'io', 'data', 'model'],
  pipeline: ['core', 'io', 'data', 'model', 'tfjs', 'eval'],
  experiments: ['core', 'io', 'data', 'model', 'tfjs', 'eval', 'pipeline'],
  cli: ['core', 'io', 'data', 'model', 'tfjs', 'eval', 'pipeline', 'experiments'],
  entry: ['core'],
};

describe('module structure', () => {
  it('each layer imports only the layers below it', () => {
    const wrong = [...graph].flatMap(([file, { local }]) =>
      local
        .filter((target) => layerOf(target) !== layerOf(file) && target.startsWith('src/'))
        .filter((target) => !(allowed[layerOf(file)] ?? []).includes(layerOf(target)))
        .map((target) => `${file} → ${target}`),
    );
    expect(wrong).toEqual([]);
  });

  it('no two modules import each other', () => {
    const mutual = [...graph].flatMap(([file, { local }]) =>
      local
        .filter((target) => file < target && graph.get(target)?.local.includes(file))
        .map((t) => `${file} ↔ ${t}`),
    );
    expect(mutual).toEqual([]);
  });

  it.each(['src/model/browser.ts', 'src/data/browser.ts'])('%s reaches no Node built-in', (entry) => {
    const seen = new Set<string>();
    const nodeImports: string[] = [];
    const visit = (file: string) => {
      const browserStandIn = file.replace(/\.ts$/, '.browser.ts');
      const actual = graph.has(browserStandIn) ? browserStandIn : file; // as tsup's browser build resolves
      if (seen.has(actual)) return;
      seen.add(actual);
      const node = graph.get(actual)!;
      for (const name of node.external) if (name.startsWith('node:')) nodeImports.push(`${actual}: ${name}`);
      for (const target of node.runtime) visit(target);
    };
    visit(entry);
    expect(seen.size).toBeGreaterThan(3);
    expect(nodeImports).toEqual([]);
  });
});
