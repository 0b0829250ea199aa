// `npm run bench`: every benchmark of the project, side by side in one run.
import { cpus } from 'node:os';
import { benchCore } from './core.js';

console.log(
  `rho-slm benchmarks · node ${process.version} · ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}\n`,
);
benchCore();
