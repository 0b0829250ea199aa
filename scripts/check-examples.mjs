// Type-checks every `@example` of the public API (files re-exported by an entry barrel): each
// example becomes a module that imports its entry's exports and tfjs, declares the free names the
// docs leave to the reader (`logits`, `model`, ...) with the types below, and runs through tsc.
// Usage: node scripts/check-examples.mjs
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'node_modules/.cache/rho-slm-examples');

/** Entry barrel, module specifier and the free names its examples may use. */
const entries = {
  core: {
    specifier: 'rho-slm',
    barrel: 'src/core/index.ts',
    context: `declare const logits: Float32Array; declare const labels: number[];
declare const modelLoss: Float32Array; declare const refLoss: number[]; declare const scores: number[];`,
  },
  tfjs: {
    specifier: 'rho-slm/tfjs',
    barrel: 'src/tfjs/index.ts',
    context: `declare const logits: tf.Tensor3D; declare const labels: tf.Tensor2D; declare const refLoss: tf.Tensor2D;
declare const model: tf.LayersModel; declare const ids: tf.Tensor2D; declare const inputs: tf.Tensor2D;
declare const x: tf.Tensor2D; declare const y: tf.Tensor2D; declare const params: tf.Variable[];
declare const forward: (inputs: tf.Tensor) => tf.Tensor; declare const result: TensorSelectiveLossResult;`,
  },
  model: {
    specifier: 'rho-slm/model',
    barrel: 'src/model/index.ts',
    context: `declare const model: LlamaModel; declare const config: LlamaConfig;
declare const promptIds: tf.Tensor2D; declare const nextId: tf.Tensor2D;`,
  },
  data: {
    specifier: 'rho-slm/data',
    barrel: 'src/data/index.ts',
    context: 'declare const tokenizer: Tokenizer; declare const step: number;',
  },
  pipeline: { specifier: 'rho-slm/pipeline', barrel: 'src/pipeline/index.ts', context: '' },
  eval: {
    specifier: 'rho-slm/eval',
    barrel: 'src/eval/index.ts',
    context: `import type { LlamaModel } from 'rho-slm/model'; import type { Tokenizer } from 'rho-slm/data';
declare const model: LlamaModel; declare const tokenizer: Tokenizer; declare const dataset: MathExample[];
declare const generate: Generate; declare const question: string;`,
  },
};

/** Names exported by a barrel (values and types), and the files it re-exports. */
function barrelExports(barrel) {
  const text = readFileSync(join(root, barrel), 'utf8');
  const names = new Set();
  const files = new Set();
  for (const [, list, from] of text.matchAll(/export (?:type )?\{([^}]*)\} from '([^']+)'/g)) {
    for (const item of list.split(',')) {
      const name = item
        .trim()
        .replace(/^type /, '')
        .split(' as ')
        .pop()
        ?.trim();
      if (name) names.add(name);
    }
    files.add(join(barrel, '..', from.replace(/\.js$/, '.ts')));
  }
  for (const [, from] of text.matchAll(/export \* from '([^']+)'/g)) {
    const target = join(barrel, '..', from.replace(/\.js$/, '.ts'));
    files.add(target);
    const inner = barrelExports(target); // a barrel re-exported whole: its names and files too
    for (const name of inner.names) names.add(name);
    for (const file of inner.files) files.add(file);
  }
  return { names, files };
}

/** The `@example` code blocks of a source file, with their line numbers. */
function examplesOf(file) {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/@example\s*\n\s*\*\s*```ts\n([\s\S]*?)\n\s*\*\s*```/g)].map((match) => ({
    line: text.slice(0, match.index).split('\n').length,
    code: match[1]
      .split('\n')
      .map((line) => line.replace(/^\s*\* ?/, ''))
      .join('\n'),
  }));
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const generated = [];
for (const [layer, entry] of Object.entries(entries)) {
  const { names, files } = barrelExports(entry.barrel);
  if (layer === 'core') for (const name of barrelExports('src/index.ts').names) names.add(name);
  const own = [...files].filter((file) => file.startsWith(join(entry.barrel, '..'))); // SLMError is re-exported everywhere
  for (const file of own.sort()) {
    for (const { line, code } of examplesOf(file)) {
      const imports = code.split('\n').filter((l) => l.startsWith('import '));
      const body = code.split('\n').filter((l) => !l.startsWith('import '));
      const ownImports = new Set(
        imports.flatMap(
          (l) =>
            /\{([^}]*)\}/
              .exec(l)?.[1]
              .split(',')
              .map((n) => n.trim()) ?? [],
        ),
      );
      const entryNames = [...names].filter((name) => !ownImports.has(name));
      const name = `${file.replace(/^src\//, '').replace(/[/.]/g, '_')}_L${line}.ts`;
      writeFileSync(
        join(out, name),
        [
          `// ${file}:${line}`,
          "import * as tf from '@tensorflow/tfjs';",
          `import { ${entryNames.join(', ')} } from '${entry.specifier}';`,
          ...imports,
          entry.context,
          'void tf;',
          `void [${entryNames.filter((n) => /^[a-z]/.test(n) || /^[A-Z_]+$/.test(n) || n === 'SLMError').join(', ')}];`,
          '{',
          body.join('\n'),
          '}',
          'export {};',
          '',
        ].join('\n'),
      );
      generated.push(name);
    }
  }
}

writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: '../../../tsconfig.json',
    compilerOptions: {
      noUnusedLocals: false,
      noUnusedParameters: false,
      verbatimModuleSyntax: false,
      isolatedModules: false,
      baseUrl: '../../..',
    },
    include: ['*.ts'],
  }),
);
const result = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(out, 'tsconfig.json')], {
  encoding: 'utf8',
});
if (result.status !== 0) {
  process.stdout.write(result.stdout + result.stderr);
  console.error(`check-examples: some @example blocks do not compile (generated files in ${out})`);
  process.exit(1);
}
console.log(`check-examples: ${generated.length} @example blocks of the public API compile`);
