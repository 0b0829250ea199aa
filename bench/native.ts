// The model on the fastest backend against PyTorch, side by side in one run: SLM training
// (AdamW, top-60% selection, clip 1.0) and scoring tokens/s of the `demo` and `small` presets on
// the native `tensorflow` backend and on wasm, kernels per step, and model FLOP utilisation against
// the hardware (PyTorch's 2-thread 2048² matMul in the same run). PyTorch runs bench/pytorch_llama.py
// with the same config, batch and selection, when `$RHO_SLM_PYTHON` (default .cache/torch/bin/python,
// then python3) can import torch; otherwise that column says how to get it. Also the token loss's
// peak memory on each backend, and whether `small` trains two steps within wasm's 4 GiB heap.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_RATIO } from '../src/index.js';
import {
  AdamW,
  LLAMA_PRESETS,
  type LlamaConfig,
  LlamaModel,
  parameterCount,
  parameterTable,
} from '../src/model/index.js';
import { createTrainStep, tokenLoss, useBackend } from '../src/tfjs/index.js';
import { measurePeakBytes } from '../test/helpers/memoryMeter.js';
import { trainingFlopsPerToken } from './model.js';
import { tokenLossPeakRatio } from './tfjs.js';
import { fmt, median, medianMsAsync } from './timing.js';

/** One benchmark setting: a preset with its batch and window. */
export interface Setting {
  preset: 'demo' | 'small';
  batch: number;
  positions: number;
  /** Timed runs per median. */
  runs: number;
}

/** The `demo` and `small` settings every model-speed comparison uses. */
export const SETTINGS: Setting[] = [
  { preset: 'demo', batch: 8, positions: 128, runs: 7 },
  { preset: 'small', batch: 4, positions: 256, runs: 3 },
];

/** What PyTorch measured for one setting and thread count. */
export interface TorchFigures {
  trainTokensPerSecond: number;
  scoreTokensPerSecond: number;
  matMulFlops: number;
  torch: string;
}

/** A python that can import torch: `$RHO_SLM_PYTHON`, .cache/torch/bin/python, then python3. */
export function pythonWithTorch(): string | undefined {
  const local = fileURLToPath(new URL('../.cache/torch/bin/python', import.meta.url));
  const candidates = [process.env.RHO_SLM_PYTHON, existsSync(local) ? local : undefined, 'python3'];
  for (const python of candidates) {
    if (python === undefined) continue;
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

/**
 * Runs `bench/<script>` with `python` and `settings` as its one JSON argument; returns the JSON of
 * its last output line (the PyTorch yardsticks print one).
 */
export function runPythonBench(python: string, script: string, settings: object): unknown {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const run = spawnSync(python, [path, JSON.stringify(settings)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr.trim().split('\n').at(-1)}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!);
}

/** Runs bench/pytorch_llama.py for `setting` on `device` (`'cpu'` or `'cuda'`) with `threads` CPU threads. */
export function torchFigures(
  python: string,
  config: LlamaConfig,
  setting: Setting,
  threads: number,
  device = 'cpu',
): TorchFigures {
  const settings = {
    config,
    batch: setting.batch,
    positions: setting.positions,
    threads,
    steps: setting.runs,
    ratio: DEFAULT_RATIO,
    device,
  };
  return runPythonBench(python, 'pytorch_llama.py', settings) as TorchFigures;
}

/** A seeded model, one batch and an SLM training step of `config` on the active backend. */
export function slmStepSetup(config: LlamaConfig, { batch, positions }: Setting) {
  const model = LlamaModel.create(config, { seed: 1 });
  const inputs = tf.randomUniform([batch, positions], 0, config.vocab_size, 'int32', 1);
  const labels = tf.randomUniform([batch, positions], 0, config.vocab_size, 'int32', 2);
  const refLoss = tf.fill([batch, positions], 4);
  const optimizer = new AdamW({ learningRate: 1e-3 });
  const step = createTrainStep({ model, optimizer, selective: { ratio: DEFAULT_RATIO }, clipNorm: 1 });
  return {
    model,
    inputs,
    labels,
    train: () => step({ inputs, labels, refLoss }),
    dispose: () => {
      tf.dispose([inputs, labels, refLoss]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Train and scoring tokens/s on the active backend: one model's figures, or one round's. */
export interface OurFigures {
  trainTokensPerSecond: number;
  scoreTokensPerSecond: number;
}

/**
 * Train and scoring tokens/s of a set-up model and batch: medians of `setting.runs` after one
 * warm-up each. Called once per round on the same setup, so rounds differ only in when they ran.
 */
async function timeSetup(setup: ReturnType<typeof slmStepSetup>, setting: Setting): Promise<OurFigures> {
  const { model, inputs, labels, train } = setup;
  const { batch, positions, runs } = setting;
  const score = async () => {
    const losses = tf.tidy(() => tokenLoss(model.forward(inputs), labels));
    await losses.data();
    losses.dispose();
  };
  const trainMs = await medianMsAsync(train, runs);
  const scoreMs = await medianMsAsync(score, runs);
  return {
    trainTokensPerSecond: (batch * positions * 1000) / trainMs,
    scoreTokensPerSecond: (batch * positions * 1000) / scoreMs,
  };
}

/**
 * Kernels one training step of a set-up model runs, after one step that creates the optimizer's
 * state (tf.profile reads every kernel's output).
 */
async function kernelsPerStep(setup: ReturnType<typeof slmStepSetup>): Promise<number> {
  await setup.train();
  return (
    await tf.profile(async () => {
      await setup.train();
    })
  ).kernels.length;
}

/**
 * Our figures for one setting on the active backend: train and scoring tokens/s (medians of
 * `setting.runs` after one warm-up) and, unless `countKernels` is false, kernels per step (webgpu in
 * Node cannot read every kernel's output synchronously, as tf.profile does).
 */
export async function ourFigures(config: LlamaConfig, setting: Setting, countKernels = true) {
  const setup = slmStepSetup(config, setting);
  const figures = await timeSetup(setup, setting);
  const kernels = countKernels ? await kernelsPerStep(setup) : Number.NaN;
  setup.dispose();
  return { ...figures, kernels };
}

/** One paired round: PyTorch and rho-slm timed back to back, in the order given. */
interface Round {
  torchFirst: boolean;
  torch: TorchFigures;
  ours: OurFigures;
}

/**
 * `rounds` paired rounds of PyTorch (2 threads, a fresh process each round) against rho-slm on the
 * active backend (one setup for all rounds), alternating which goes first. This machine's speed
 * drifts by up to 30% within minutes; a ratio taken within one round, and its median over rounds,
 * cancels most of that drift where two separately taken figures would not.
 */
async function pairedRounds(
  python: string,
  config: LlamaConfig,
  setting: Setting,
  setup: ReturnType<typeof slmStepSetup>,
  rounds: number,
): Promise<Round[]> {
  const result: Round[] = [];
  for (let round = 0; round < rounds; round++) {
    const torchFirst = round % 2 === 0;
    const before = torchFirst ? torchFigures(python, config, setting, 2) : undefined;
    const ours = await timeSetup(setup, setting);
    const torch = before ?? torchFigures(python, config, setting, 2);
    result.push({ torchFirst, torch, ours });
  }
  return result;
}

/** Paired rounds per setting for the native backend's ratios to PyTorch. */
const ROUNDS = 5;

/** The wasm backend's heap: it grows and never shrinks, and cannot pass 4 GiB. */
function wasmHeapBytes(): number {
  return (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
}

/**
 * Two SLM training steps of `config` on wasm (single-threaded: seconds per step, so no median),
 * with the peak tensor memory of each step (test/helpers/memoryMeter.ts: distinct buffers beyond
 * those alive before the step: the weights, and from step 2 the AdamW moments) and the heap size
 * after it: whether the 4 GiB wasm heap holds a model this size.
 */
async function twoStepsOnWasm(config: LlamaConfig, setting: Setting): Promise<string> {
  const { train, dispose } = slmStepSetup(config, setting);
  const start = performance.now();
  const steps: string[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const { peakBytes } = await measurePeakBytes(train);
      steps.push(
        `step ${i + 1} peak ${fmt(peakBytes / 2 ** 30)} GiB, heap ${fmt(wasmHeapBytes() / 2 ** 30)} GiB`,
      );
    }
    const seconds = (performance.now() - start) / 2000;
    return `2 training steps without abort: ${fmt(seconds)} s/step (${fmt((setting.batch * setting.positions) / seconds)} tok/s); ${steps.join('; ')}`;
  } catch (error) {
    return `aborted after ${steps.length} step(s): ${(error as Error).message.split('\n')[0]}`;
  } finally {
    try {
      dispose();
    } catch {
      // After an abort the wasm heap is gone; nothing more to free.
    }
  }
}

/**
 * rho-slm on the active `backend` for one setting: kernels per step, then train and scoring tokens/s,
 * in paired rounds against PyTorch when `python` has torch; printed and added to `figures`.
 */
async function compareOnBackend(
  python: string | undefined,
  config: LlamaConfig,
  setting: Setting,
  backend: string,
  figures: Record<string, number>,
): Promise<void> {
  const flopsPerToken = trainingFlopsPerToken(config, setting.positions);
  // one setup: its kernels are counted, then it is timed
  const setup = slmStepSetup(config, setting);
  try {
    const kernels = await kernelsPerStep(setup);
    figures[`${setting.preset}.${backend}.kernels`] = kernels;
    if (python === undefined) {
      const ours = await timeSetup(setup, setting);
      console.log(
        `  rho-slm on ${backend.padEnd(10)}   train ${fmt(ours.trainTokensPerSecond)} tok/s   score ${fmt(ours.scoreTokensPerSecond)} tok/s   ${kernels} kernels/step`,
      );
      figures[`${setting.preset}.${backend}.train`] = ours.trainTokensPerSecond;
      figures[`${setting.preset}.${backend}.score`] = ours.scoreTokensPerSecond;
      return;
    }
    console.log(
      `  rho-slm on ${backend} (${kernels} kernels/step) against PyTorch 2 threads, ${ROUNDS} paired rounds:`,
    );
    const rounds = await pairedRounds(python, config, setting, setup, ROUNDS);
    for (const [index, { torchFirst, torch, ours }] of rounds.entries()) {
      console.log(
        `    round ${index + 1} (${torchFirst ? 'PyTorch' : 'rho-slm'} first)   PyTorch train ${fmt(torch.trainTokensPerSecond)} score ${fmt(torch.scoreTokensPerSecond)} tok/s   rho-slm train ${fmt(ours.trainTokensPerSecond)} score ${fmt(ours.scoreTokensPerSecond)} tok/s   ratio train ${fmt(ours.trainTokensPerSecond / torch.trainTokensPerSecond)}×, score ${fmt(ours.scoreTokensPerSecond / torch.scoreTokensPerSecond)}×`,
      );
    }
    const middle = (pick: (round: Round) => number) => median(rounds.map(pick));
    const trainRatio = middle((r) => r.ours.trainTokensPerSecond / r.torch.trainTokensPerSecond);
    const scoreRatio = middle((r) => r.ours.scoreTokensPerSecond / r.torch.scoreTokensPerSecond);
    const mfu = middle((r) => (100 * flopsPerToken * r.ours.trainTokensPerSecond) / r.torch.matMulFlops);
    console.log(
      `    median over rounds: ratio train ${fmt(trainRatio)}×, score ${fmt(scoreRatio)}×; MFU ${fmt(mfu)}% of the hardware (PyTorch's 2048² matMul ${fmt(middle((r) => r.torch.matMulFlops) / 1e9)} GFLOP/s)`,
    );
    figures[`${setting.preset}.torch2.train`] = middle((r) => r.torch.trainTokensPerSecond);
    figures[`${setting.preset}.${backend}.train`] = middle((r) => r.ours.trainTokensPerSecond);
    figures[`${setting.preset}.${backend}.score`] = middle((r) => r.ours.scoreTokensPerSecond);
    figures[`${setting.preset}.${backend}.trainRatio`] = trainRatio;
    figures[`${setting.preset}.${backend}.scoreRatio`] = scoreRatio;
  } finally {
    setup.dispose();
  }
}

/** Prints the native-speed table and returns its figures. */
export async function benchNative(): Promise<Record<string, number>> {
  const backends: string[] = [];
  for (const backend of ['tensorflow', 'wasm'] as const) {
    try {
      await useBackend(backend);
      backends.push(backend);
    } catch (error) {
      console.log(`model vs PyTorch: ${backend} not available (${(error as Error).message.split(';')[0]})`);
    }
  }
  const figures: Record<string, number> = {};
  for (const backend of backends) {
    await useBackend(backend as 'tensorflow' | 'wasm');
    const ratio = await tokenLossPeakRatio();
    figures[`tokenLoss.${backend}.peakLogits`] = ratio;
    console.log(
      `tokenLoss forward+backward on ${backend}, N=2048 V=32000: peak ${fmt(ratio)}× the logits beyond them (target ≤ 3×)`,
    );
  }
  const python = pythonWithTorch();
  for (const setting of SETTINGS) {
    const config = LLAMA_PRESETS[setting.preset];
    console.log(
      `model vs PyTorch: ${setting.preset} preset (${fmt(parameterCount(parameterTable(config)) / 1e6)} M parameters), B=${setting.batch} T=${setting.positions}, AdamW, SLM ratio 0.6, medians of ${setting.runs} steps`,
    );
    if (python === undefined) {
      console.log(
        '  PyTorch: not found (python3 -m venv .cache/torch && .cache/torch/bin/pip install torch; or set RHO_SLM_PYTHON)',
      );
    } else {
      const torch = torchFigures(python, config, setting, 1);
      console.log(
        `  PyTorch ${torch.torch}, 1 thread   train ${fmt(torch.trainTokensPerSecond)} tok/s   score ${fmt(torch.scoreTokensPerSecond)} tok/s   2048² matMul ${fmt(torch.matMulFlops / 1e9)} GFLOP/s`,
      );
      figures[`${setting.preset}.torch1.train`] = torch.trainTokensPerSecond;
    }
    for (const backend of backends) {
      await useBackend(backend as 'tensorflow' | 'wasm');
      if (backend === 'wasm' && setting.preset === 'small') {
        console.log(`  rho-slm on wasm         ${await twoStepsOnWasm(config, setting)}`);
        continue;
      }
      await compareOnBackend(python, config, setting, backend, figures);
    }
  }
  return figures;
}
