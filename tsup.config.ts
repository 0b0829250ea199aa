import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

/** In browser builds, `./x.js` resolves to `./x.browser.ts` where one exists (Node-only module stand-ins). */
const browserStandIns: Plugin = {
  name: 'browser-stand-ins',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const standIn = join(args.resolveDir, args.path.replace(/\.js$/, '.browser.ts'));
      return existsSync(standIn) && dirname(args.importer) === dirname(standIn)
        ? { path: standIn }
        : undefined;
    });
  },
};

// `npm run build` empties dist first: tsup's `clean` would race with the other builds' declarations.
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
    target: 'node20',
    treeshake: true,
    splitting: true, // also for CJS, so every entry shares one SLMError class
  },
  {
    // The `browser` export condition of rho-slm/model and rho-slm/data: no Node built-ins.
    entry: { model: 'src/model/browser.ts', data: 'src/data/browser.ts' },
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    dts: true,
    sourcemap: true,
    target: 'es2022',
    treeshake: true,
    splitting: true,
    esbuildPlugins: [browserStandIns],
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    // The demo's charting (dev dependencies) stays outside the published command.
    external: ['vega', 'vega-lite'],
  },
]);
