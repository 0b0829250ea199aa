import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      tfjs: 'src/tfjs/index.ts',
      model: 'src/model/index.ts',
      data: 'src/data/index.ts',
      pipeline: 'src/pipeline/index.ts',
      eval: 'src/eval/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    treeshake: true,
    splitting: true, // also for CJS, so every entry shares one SLMError class
  },
  {
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    // The demo's charting (dev dependencies) stays outside the published command.
    external: ['vega', 'vega-lite'],
  },
]);
