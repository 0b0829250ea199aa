// `npm run bench -- webgpu`: rho-slm on WebGPU (Dawn through the `webgpu` package in Node), the
// GPU path for users without CUDA TensorFlow. In order, so the most important figures come first:
//   1. the adapter Dawn chose (a software one, e.g. lavapipe, is refused unless allowed);
//   2. SLM training and scoring tokens/s of the `demo` preset on webgpu (the setup of bench/native.ts);
//   3. agreement with wasm on the seeded `demo` model and batch: logits and token losses before
//      training, and the loss of each of a few SLM steps;
//   4. the same tokens/s for the `small` preset on webgpu;
//   5. the `demo` tokens/s on wasm, and PyTorch (bench/pytorch_llama.py) on CUDA for both presets.
// Named only (not part of a plain `npm run bench`): it needs a GPU adapter. Environment knobs:
//   RHO_SLM_BENCH_QUICK=1           one timed run per median and two agreement steps (for lavapipe);
//   RHO_SLM_BENCH_PRESETS=demo      presets to time on webgpu (default demo,small);
//   RHO_SLM_BENCH_OUT=DIR           write webgpu.json and webgpu.txt there after every figure;
//   RHO_SLM_ALLOW_SOFTWARE_GPU=1    accept a software adapter instead of failing;
//   RHO_SLM_TORCH_DEVICE=cuda       PyTorch's device ('none' skips PyTorch; default cuda).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LLAMA_PRESETS, type LlamaConfig, parameterCount, parameterTable } from '../src/model/index.js';
import { type GpuAdapterInfo, softwareAdapter } from '../src/tfjs/backend.js';
import { tokenLoss, useBackend } from '../src/tfjs/index.js';
import { trainingFlopsPerToken } from './model.js';
import { ourFigures, pythonWithTorch, SETTINGS, type Setting, slmStepSetup, torchFigures } from './native.js';
import { fmt } from './timing.js';

const env = process.env;
const quick = env.RHO_SLM_BENCH_QUICK === '1';
const presets = (env.RHO_SLM_BENCH_PRESETS ?? 'demo,small').split(',');
const torchDevice = env.RHO_SLM_TORCH_DEVICE ?? 'cuda';
/** Timed runs per median, per preset. */
const RUNS: Record<Setting['preset'], number> = quick ? { demo: 1, small: 1 } : { demo: 10, small: 5 };
const AGREEMENT_STEPS = quick ? 2 : 3;

/** Everything measured so far, and the printed lines, rewritten to RHO_SLM_BENCH_OUT after each figure. */
const results: Record<string, unknown> = {};
const lines: string[] = [];

function report(line: string, key?: string, value?: unknown): void {
  console.log(line);
  lines.push(line);
  if (key !== undefined) results[key] = value;
  const out = env.RHO_SLM_BENCH_OUT;
  if (out === undefined) return;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'webgpu.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'webgpu.txt'), `${lines.join('\n')}\n`);
}

function setting(preset: Setting['preset']): Setting {
  return { ...SETTINGS.find((s) => s.preset === preset)!, runs: RUNS[preset] };
}

/** Selects webgpu and reports its adapter; throws on a software adapter unless allowed. */
async function webgpuAdapter(): Promise<void> {
  await useBackend('webgpu');
  const gpu = (
    globalThis as { navigator?: { gpu?: { requestAdapter(o?: object): Promise<GpuAdapterInfo> } } }
  ).navigator!.gpu!;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  // Dawn's GPUAdapterInfo fields are prototype getters, which a spread would not copy.
  const { vendor, architecture, device, description } = adapter?.info ?? {};
  const info = { vendor, architecture, device, description, isFallbackAdapter: adapter?.isFallbackAdapter };
  const chosen = (tf.backend() as { adapterInfo?: object }).adapterInfo;
  report(`webgpu adapter: ${JSON.stringify(info)}; tfjs's: ${JSON.stringify(chosen)}`, 'adapter', info);
  const software = adapter === null ? 'none' : softwareAdapter(adapter);
  if (software !== undefined && env.RHO_SLM_ALLOW_SOFTWARE_GPU !== '1')
    throw new Error(
      `webgpu runs on a software adapter (${software}); RHO_SLM_ALLOW_SOFTWARE_GPU=1 accepts it`,
    );
}

/** Train and scoring tokens/s of `preset` on the active backend, with achieved training TFLOP/s. */
async function timeOn(backend: 'webgpu' | 'wasm', preset: Setting['preset']): Promise<void> {
  const config = LLAMA_PRESETS[preset];
  const s = setting(preset);
  const start = performance.now();
  const ours = await ourFigures(config, s, backend !== 'webgpu');
  const tflops = (trainingFlopsPerToken(config, s.positions) * ours.trainTokensPerSecond) / 1e12;
  report(
    `  ${preset.padEnd(5)} on ${backend.padEnd(6)}  train ${fmt(ours.trainTokensPerSecond)} tok/s (${fmt(tflops)} TFLOP/s)   score ${fmt(ours.scoreTokensPerSecond)} tok/s   medians of ${s.runs}, ${fmt((performance.now() - start) / 1000)} s in all`,
    `${preset}.${backend}`,
    { ...ours, trainTflops: tflops, runs: s.runs },
  );
}

/** Logits and token losses of the fresh seeded model, then the loss of each SLM step, on `backend`. */
async function trajectory(backend: 'webgpu' | 'wasm', config: LlamaConfig, s: Setting) {
  await useBackend(backend);
  const { model, inputs, labels, train, dispose } = slmStepSetup(config, s);
  const logitsTensor = model.forward(inputs);
  const lossTensor = tokenLoss(logitsTensor, labels);
  const logits = (await logitsTensor.data()) as Float32Array;
  const tokenLosses = (await lossTensor.data()) as Float32Array;
  tf.dispose([logitsTensor, lossTensor]);
  const losses: number[] = [];
  const gradNorms: number[] = [];
  for (let i = 0; i < AGREEMENT_STEPS; i++) {
    const stats = await train();
    losses.push(stats.loss);
    gradNorms.push(stats.gradNorm);
  }
  dispose();
  return { logits, tokenLosses, losses, gradNorms };
}

/** Largest |a − b| and largest |a − b| / |b| over two equal-length arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.max(Math.abs(b[i]!), 1e-6));
  }
  return { abs, rel };
}

/** Webgpu against wasm on the same seeded `demo` model and batch. */
async function agreement(): Promise<void> {
  const config = LLAMA_PRESETS.demo;
  const s = setting('demo');
  const gpu = await trajectory('webgpu', config, s);
  const wasm = await trajectory('wasm', config, s);
  const logits = maxDiff(gpu.logits, wasm.logits);
  const tokens = maxDiff(gpu.tokenLosses, wasm.tokenLosses);
  const steps = maxDiff(gpu.losses, wasm.losses);
  const list = (values: number[]) => values.map((v) => v.toFixed(6)).join(', ');
  report(`  agreement with wasm (demo, seeded model and batch, ${AGREEMENT_STEPS} SLM steps):`, 'agreement', {
    logitsMaxAbs: logits.abs,
    tokenLossMaxAbs: tokens.abs,
    tokenLossMaxRel: tokens.rel,
    webgpuLosses: gpu.losses,
    wasmLosses: wasm.losses,
    lossMaxAbs: steps.abs,
    webgpuGradNorms: gpu.gradNorms,
    wasmGradNorms: wasm.gradNorms,
  });
  report(`    step losses webgpu: ${list(gpu.losses)}`);
  report(`    step losses wasm:   ${list(wasm.losses)}   max |Δ| ${steps.abs.toExponential(2)}`);
  report(`    gradient norms webgpu: ${list(gpu.gradNorms)}; wasm: ${list(wasm.gradNorms)}`);
  report(
    `    before training: logits max |Δ| ${logits.abs.toExponential(2)}; token log-probs max |Δ| ${tokens.abs.toExponential(2)}, max rel ${tokens.rel.toExponential(2)}`,
  );
}

/** PyTorch on `torchDevice` for `preset`, or why not. */
function torchOn(python: string | undefined, preset: Setting['preset']): void {
  const label = `  ${preset.padEnd(5)} PyTorch ${torchDevice}`;
  if (python === undefined) {
    report(`${label}: no python with torch`);
    return;
  }
  try {
    const torch = torchFigures(python, LLAMA_PRESETS[preset], setting(preset), 1, torchDevice);
    report(
      `${label}  train ${fmt(torch.trainTokensPerSecond)} tok/s   score ${fmt(torch.scoreTokensPerSecond)} tok/s   2048² matMul ${fmt(torch.matMulFlops / 1e12)} TFLOP/s (torch ${torch.torch})`,
      `${preset}.torch-${torchDevice}`,
      torch,
    );
  } catch (error) {
    report(`${label}: ${(error as Error).message}`);
  }
}

/** Runs the WebGPU benchmark (see the top of this file) and returns everything it measured. */
export async function benchWebgpu(): Promise<Record<string, unknown>> {
  const describe = (preset: Setting['preset']) => {
    const s = setting(preset);
    return `${preset} ${fmt(parameterCount(parameterTable(LLAMA_PRESETS[preset])) / 1e6)} M B=${s.batch} T=${s.positions}`;
  };
  report(
    `rho-slm on webgpu: SLM training (AdamW, top-60%, clip 1) and scoring; ${presets.map((p) => describe(p as Setting['preset'])).join('; ')}`,
  );
  await webgpuAdapter();
  if (presets.includes('demo')) await timeOn('webgpu', 'demo');
  await agreement();
  if (presets.includes('small')) {
    await useBackend('webgpu');
    await timeOn('webgpu', 'small');
  }
  await useBackend('wasm');
  await timeOn('wasm', 'demo');
  if (torchDevice !== 'none') {
    const python = pythonWithTorch();
    for (const preset of presets) torchOn(python, preset as Setting['preset']);
  }
  return results;
}
