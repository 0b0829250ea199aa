// `npm run bench`: every benchmark of the project, side by side in one run. The core runs first,
// before tfjs is loaded, so its single-thread figures see the same heap as a core-only user.
// `npm run bench -- native` (or core, tfjs, model, kernels, pipeline, sandbox) runs only the named
// groups; `sandbox` (bench/sandbox.ts) times runPython with and without its bubblewrap sandbox.
// `npm run bench -- webgpu` (WebGPU speed and agreement with wasm, bench/webgpu.ts) runs only when
// named, since it needs a GPU adapter; `npm run bench -- tinyllama` (the 1.1 B model, ~20 GB,
// bench/tinyllama.ts) too.
import { cpus } from 'node:os';
import { benchCore } from './core.js';

const groups = process.argv.slice(2);
const wanted = (group: string) => groups.length === 0 || groups.includes(group);

console.log(
  `rho-slm benchmarks · node ${process.version} · ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}\n`,
);
if (wanted('core')) {
  benchCore();
  console.log();
}
if (wanted('tfjs')) {
  const { benchTfjs } = await import('./tfjs.js');
  await benchTfjs();
  console.log();
}
if (wanted('model')) {
  const { benchModel } = await import('./model.js');
  await benchModel();
  console.log();
}
if (wanted('native')) {
  const { benchNative } = await import('./native.js');
  await benchNative();
  console.log();
}
if (wanted('kernels')) {
  const { benchKernels } = await import('./kernels.js');
  await benchKernels();
  console.log();
}
if (wanted('pipeline')) {
  const { benchPipeline } = await import('./pipeline.js');
  await benchPipeline();
  console.log();
}
if (wanted('sandbox')) {
  const { benchSandbox } = await import('./sandbox.js');
  await benchSandbox();
}
if (groups.includes('tinyllama')) {
  const { benchTinyllama } = await import('./tinyllama.js');
  await benchTinyllama();
}
if (groups.includes('webgpu')) {
  const { benchWebgpu } = await import('./webgpu.js');
  await benchWebgpu();
}
