// `npm run bench`: every benchmark of the project, side by side in one run. The core runs first,
// before tfjs is loaded, so its single-thread figures see the same heap as a core-only user.
import { cpus } from 'node:os';
import { benchCore } from './core.js';

console.log(
  `rho-slm benchmarks · node ${process.version} · ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}\n`,
);
benchCore();
console.log();
const { benchTfjs } = await import('./tfjs.js');
await benchTfjs();
console.log();
const { benchModel } = await import('./model.js');
await benchModel();
console.log();
const { benchPipeline } = await import('./pipeline.js');
await benchPipeline();
