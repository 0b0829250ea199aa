// `npm run bench -- tinyllama`: the bundled model at TinyLlama-1.1B's size on this machine, each phase
// in a fresh process so that its peak resident memory (VmHWM) is its own: create with random
// weights (tf.randomNormal's numbers) and save a BF16 Hugging Face checkpoint; load it and score
// (first forward, scoring tokens/s); SLM training steps (batch 1, T = 256, AdamW with fp32
// moments, clipping), keeping activations and recomputing them (LlamaModel.recomputeActivations),
// the latter also in `rho-slm train --low-memory`'s environment (lowMemoryEnv).
// PyTorch 2 threads beside it in the same run where `torch` imports. Training is timed as PyTorch's
// peer times it: two warm-up steps, then the median of the rest. Then the start-up figures, ours
// and PyTorch's alternated for a few rounds (they move with the machine's page-fault cost): create
// with the ziggurat sampler, and the first scored batch of `rho-slm score` as installed (dist/cli.js,
// built first) from spawn to exit.
// Needs about 20 GB: never run it beside the study or the test suite.
// RHO_SLM_BENCH_PRESET=small runs the same code at 56 M parameters (a check of the bench itself);
// RHO_SLM_BENCH_STEPS=n runs n training steps instead of 4 (does the peak settle?);
// RHO_SLM_BENCH_STARTUP_ROUNDS=n runs n start-up rounds instead of 3;
// RHO_SLM_BENCH_CREATE_ONLY=1 runs only the start-up rounds' create, ours and PyTorch's alternated.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lowMemoryEnv } from '../src/cli/nativeLog.js';
import { LLAMA_PRESETS, type LlamaPresetName } from '../src/model/config.js';
import { fillNormal } from '../src/model/normalInit.js';
import { fillZiggurat, zigguratSimd } from '../src/model/ziggurat.js';
import { prepareCorpus } from '../src/pipeline/prepare.js';
import { pythonWithTorch, runPythonBench } from './native.js';
import { fmt, median, medianMs } from './timing.js';

const PRESET = (process.env.RHO_SLM_BENCH_PRESET ?? 'tinyllama-1.1b') as LlamaPresetName;
const POSITIONS = 256;
const TRAIN_STEPS = Number(process.env.RHO_SLM_BENCH_STEPS ?? 4);
/** Untimed training steps first, as bench/pytorch_llama.py's median_seconds has them. */
const TRAIN_WARMUP = 2;
const SCORE_BATCHES = 3;

/** A memory field of a process's /proc status, bytes: `VmHWM` (peak resident) or `VmRSS` (resident now). */
function residentBytes(pid: number | 'self', field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return line === null ? Number.NaN : Number(line[1]) * 1024;
}

/** Peak resident memory of this process so far, bytes. */
function peakResidentBytes(): number {
  return residentBytes('self', 'VmHWM');
}

/** One phase, in this (child) process; prints its figures as one JSON line. */
async function worker(phase: string, directory: string): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { useBackend, createTrainStep, tokenLoss } = await import('../src/tfjs/index.js');
  const { LlamaModel, AdamW } = await import('../src/model/index.js');
  const { backend } = await useBackend('auto');
  const config = {
    ...LLAMA_PRESETS[PRESET],
    max_position_embeddings: Math.max(POSITIONS, LLAMA_PRESETS[PRESET].max_position_embeddings),
  };
  const figures: Record<string, number | string> = { phase, backend };
  const since = (start: number) => (performance.now() - start) / 1000;
  const batch = () => ({
    inputs: tf.randomUniform([1, POSITIONS], 0, config.vocab_size, 'int32', 1),
    labels: tf.randomUniform([1, POSITIONS], 0, config.vocab_size, 'int32', 2),
  });
  if (phase === 'create') {
    let start = performance.now();
    const model = LlamaModel.create(config, { seed: 1 });
    figures.createSeconds = since(start);
    figures.weightBytes = model.parameterCount() * 4;
    start = performance.now();
    await model.save(directory, { dtype: 'BF16' });
    figures.saveSeconds = since(start);
    model.dispose();
  } else if (phase === 'create:ziggurat') {
    const start = performance.now();
    const model = LlamaModel.create(config, { seed: 1, sampler: 'ziggurat' });
    figures.createSeconds = since(start);
    model.dispose();
  } else if (phase === 'score') {
    let start = performance.now();
    const model = await LlamaModel.load(directory, { inference: true });
    figures.loadSeconds = since(start);
    figures.loadPeakBytes = peakResidentBytes();
    figures.weightBytes = model.parameterCount() * 4;
    const { inputs, labels } = batch();
    const score = async () => {
      const losses = tf.tidy(() => tokenLoss(model.forward(inputs), labels));
      await losses.data();
      losses.dispose();
    };
    start = performance.now();
    await score();
    figures.firstForwardSeconds = since(start);
    start = performance.now();
    for (let i = 0; i < SCORE_BATCHES; i++) await score();
    figures.scoreTokensPerSecond = (SCORE_BATCHES * POSITIONS) / since(start);
    tf.dispose([inputs, labels]);
    model.dispose();
  } else {
    const loaded = performance.now();
    const model = await LlamaModel.load(directory);
    figures.loadSeconds = since(loaded);
    figures.loadPeakBytes = peakResidentBytes();
    model.recomputeActivations = phase.startsWith('train:recompute');
    const { inputs, labels } = batch();
    const refLoss = tf.fill([1, POSITIONS], 4);
    const optimizer = new AdamW({ learningRate: 1e-4 });
    const step = createTrainStep({ model, optimizer, selective: { ratio: 0.6 }, clipNorm: 1 });
    const seconds: number[] = [];
    for (let i = 0; i < TRAIN_STEPS; i++) {
      const start = performance.now();
      await step({ inputs, labels, refLoss });
      seconds.push(since(start));
      process.stderr.write(
        `  train step ${i + 1}/${TRAIN_STEPS}: ${seconds.at(-1)!.toFixed(1)} s, peak ${(peakResidentBytes() / 2 ** 30).toFixed(1)} GiB, resident ${(residentBytes('self', 'VmRSS') / 2 ** 30).toFixed(1)} GiB, ${tf.memory().numTensors} tensors\n`,
      );
    }
    figures.trainStepSeconds = median(seconds.slice(TRAIN_WARMUP));
    figures.trainTokensPerSecond = POSITIONS / figures.trainStepSeconds;
    figures.firstStepSeconds = seconds[0]!;
  }
  figures.peakBytes = peakResidentBytes();
  console.log(JSON.stringify(figures));
}

/** Resident memory above which a phase is stopped: the machine has 24 GiB and no swap. */
const MEMORY_LIMIT = 22 * 2 ** 30;

/**
 * Runs one phase in a child process and resolves to its figures; a phase whose resident memory
 * passes {@link MEMORY_LIMIT} is killed (before the machine thrashes) and resolves to
 * `{ outOfMemory: 1 }`.
 */
function runWorker(
  phase: string,
  directory: string,
  env: Record<string, string> = {},
): Promise<Record<string, number>> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--worker', phase, directory], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RHO_SLM_BENCH_PRESET: PRESET, ...env },
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  let killed = false;
  const watch = setInterval(() => {
    try {
      if (residentBytes(child.pid!, 'VmRSS') > MEMORY_LIMIT) {
        killed = true;
        child.kill('SIGKILL');
      }
    } catch {
      // the child has exited
    }
  }, 200);
  return new Promise((resolve, reject) => {
    child.on('close', (code, signal) => {
      clearInterval(watch);
      if (killed) resolve({ outOfMemory: 1 });
      else if (code !== 0)
        reject(new Error(`tinyllama bench: phase ${phase} failed (exit ${code ?? signal})`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
    });
  });
}

const GiB = 2 ** 30;

/** A training phase's peak resident memory, GiB (infinite when it was stopped for passing the limit). */
function peakGiB(figures: Record<string, number>): number {
  return figures.outOfMemory === 1 ? Number.POSITIVE_INFINITY : figures.peakBytes! / GiB;
}

/** A training phase's figures as text ("out of memory" when it was stopped). */
function trainText(tokensPerSecond: number, peakGiB: number): string {
  return Number.isFinite(peakGiB)
    ? `${fmt(tokensPerSecond)} tokens/s, peak ${peakGiB.toFixed(1)} GiB`
    : `out of memory: stopped above ${MEMORY_LIMIT / GiB} GiB resident`;
}

/** Runs every phase and the PyTorch peer (with RHO_SLM_BENCH_CREATE_ONLY=1, create's alternated rounds only); prints and returns the figures. */
export async function benchTinyllama(): Promise<Record<string, number>> {
  console.log(
    `TinyLlama bench: preset ${PRESET}, batch 1, T = ${POSITIONS}, SLM ratio 0.6, AdamW fp32 moments`,
  );
  // What create's workers spend most of their time on: nanoseconds a sample on this thread.
  const samples = new Float32Array(2 ** 24);
  const perSample = (fill: () => void) => (medianMs(fill, 5) * 1e6) / samples.length;
  const simd = zigguratSimd();
  console.log(
    `  one thread, ns a sample:       tf.randomNormal's numbers ${fmt(perSample(() => fillNormal(samples, 0.02, 1)))}, ziggurat ${fmt(perSample(() => fillZiggurat(samples, 0.02, 1, simd)))}${simd === null ? ' (no WebAssembly SIMD)' : ` (its scalar code alone ${fmt(perSample(() => fillZiggurat(samples, 0.02, 1, null)))})`}`,
  );
  const directory = mkdtempSync(join(tmpdir(), 'rho-slm-tinyllama-'));
  try {
    if (process.env.RHO_SLM_BENCH_CREATE_ONLY === '1') {
      const python = pythonWithTorch();
      if (python === undefined)
        throw new Error('tinyllama bench: RHO_SLM_BENCH_CREATE_ONLY needs RHO_SLM_PYTHON');
      return await startupRounds(directory, python, { scored: false });
    }
    const create = await runWorker('create', directory);
    const score = await runWorker('score', directory);
    const train = await runWorker('train', directory);
    const recomputed = await runWorker('train:recompute', directory);
    // TensorFlow's oneDNN allocator pools large blocks (a BFC allocator) and keeps them;
    // `--low-memory` switches it to the system allocator, trading speed for a lower peak.
    const lowMemoryEnvironment = lowMemoryEnv(process.env);
    const lowMemory = await runWorker('train:recompute:low-memory', directory, lowMemoryEnvironment);
    const weights = create.weightBytes!;
    const ours = {
      createSeconds: create.createSeconds!,
      saveSeconds: create.saveSeconds!,
      loadSeconds: score.loadSeconds!,
      loadPeakOverWeights: score.loadPeakBytes! / weights,
      trainLoadSeconds: train.loadSeconds!,
      trainLoadPeakOverWeights: train.loadPeakBytes! / weights,
      firstForwardSeconds: score.firstForwardSeconds!,
      scoreTokensPerSecond: score.scoreTokensPerSecond!,
      scorePeakOverWeights: score.peakBytes! / weights,
      trainTokensPerSecond: train.trainTokensPerSecond ?? Number.NaN,
      trainPeakGiB: peakGiB(train),
      recomputeTrainTokensPerSecond: recomputed.trainTokensPerSecond ?? Number.NaN,
      recomputeTrainPeakGiB: peakGiB(recomputed),
      lowMemoryTrainTokensPerSecond: lowMemory.trainTokensPerSecond ?? Number.NaN,
      lowMemoryTrainPeakGiB: peakGiB(lowMemory),
    };
    console.log(`  weights (fp32)                 ${(weights / GiB).toFixed(2)} GiB`);
    console.log(`  create, random weights         ${fmt(ours.createSeconds)} s (tf.randomNormal's numbers)`);
    console.log(`  save (BF16 safetensors)        ${fmt(ours.saveSeconds)} s`);
    console.log(
      `  load (BF16 → fp32)             ${fmt(ours.loadSeconds)} s, peak ${ours.loadPeakOverWeights.toFixed(2)}× the weights`,
    );
    console.log(
      `  load to train (copied)         ${fmt(ours.trainLoadSeconds)} s, peak ${ours.trainLoadPeakOverWeights.toFixed(2)}× the weights`,
    );
    console.log(`  first forward                  ${fmt(ours.firstForwardSeconds)} s`);
    console.log(
      `  scoring                        ${fmt(ours.scoreTokensPerSecond)} tokens/s, peak ${ours.scorePeakOverWeights.toFixed(2)}× the weights`,
    );
    console.log(
      `  SLM training step              ${trainText(ours.trainTokensPerSecond, ours.trainPeakGiB)}`,
    );
    console.log(
      `  … recomputing activations      ${trainText(ours.recomputeTrainTokensPerSecond, ours.recomputeTrainPeakGiB)}`,
    );
    console.log(
      `  … and --low-memory             ${trainText(ours.lowMemoryTrainTokensPerSecond, ours.lowMemoryTrainPeakGiB)} (${Object.entries(
        lowMemoryEnvironment,
      )
        .map(([name, value]) => `${name}=${value}`)
        .join(' ')})`,
    );
    const python = pythonWithTorch();
    if (python === undefined) {
      console.log('  PyTorch: not installed (set RHO_SLM_PYTHON to a python with torch)');
      return ours;
    }
    const torch = runPythonBench(python, 'pytorch_llama.py', torchSettings()) as {
      trainTokensPerSecond: number;
      scoreTokensPerSecond: number;
      peakBytes: number;
      torch: string;
    };
    console.log(
      `  PyTorch ${torch.torch} (2 threads): scoring ${fmt(torch.scoreTokensPerSecond)} tokens/s, training ${fmt(torch.trainTokensPerSecond)} tokens/s, peak ${(torch.peakBytes / GiB).toFixed(1)} GiB`,
    );
    console.log(
      `  ratios (ours / PyTorch): training ${(ours.trainTokensPerSecond / torch.trainTokensPerSecond).toFixed(2)}× (recomputing ${(ours.recomputeTrainTokensPerSecond / torch.trainTokensPerSecond).toFixed(2)}×), scoring ${(ours.scoreTokensPerSecond / torch.scoreTokensPerSecond).toFixed(2)}×, training peak ${(ours.trainPeakGiB / (torch.peakBytes / GiB)).toFixed(2)}× PyTorch's (recomputing ${(ours.recomputeTrainPeakGiB / (torch.peakBytes / GiB)).toFixed(2)}×); with --low-memory ${(ours.lowMemoryTrainTokensPerSecond / torch.trainTokensPerSecond).toFixed(2)}× at ${(ours.lowMemoryTrainPeakGiB / (torch.peakBytes / GiB)).toFixed(2)}× the peak`,
    );
    const startup = await startupRounds(directory, python, { scored: true });
    return {
      ...ours,
      ...startup,
      torchTrainTokensPerSecond: torch.trainTokensPerSecond,
      torchPeakGiB: torch.peakBytes / GiB,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** bench/pytorch_llama.py's settings: the same Llama, batch 1, T = 256, 2 threads. */
function torchSettings() {
  const config = LLAMA_PRESETS[PRESET];
  return {
    config: { ...config, max_position_embeddings: Math.max(POSITIONS, config.max_position_embeddings) },
    batch: 1,
    positions: POSITIONS,
    threads: 2,
    steps: 1,
    ratio: 0.6,
    skipMatMul: true,
  };
}

/** Rounds of the start-up comparison: ours and PyTorch's alternated, so drift touches both alike. */
const STARTUP_ROUNDS = Number(process.env.RHO_SLM_BENCH_STARTUP_ROUNDS ?? 3);

/** The `rho-slm` command as the package installs it: dist/cli.js, built from this source now. */
function builtCli(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`tinyllama bench: npm run build failed: ${build.stderr.trim()}`);
  return join(root, 'dist', 'cli.js');
}

/**
 * `rho-slm score` (`cli`, with its own child process) on a one-window token file with the
 * checkpoint in `directory`: seconds from spawning it until it has exited, its one batch of losses
 * written.
 */
async function cliFirstScoredBatch(cli: string, directory: string, tokens: string): Promise<number> {
  const out = join(directory, 'one.scores');
  const args = [cli, 'score', '--model', directory, '--data', tokens, '--out', out];
  const started = Date.now();
  const child = spawn(process.execPath, [...args, '--batch', '1', '--seq-len', `${POSITIONS}`, '--force'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`tinyllama bench: rho-slm score failed (exit ${code}): ${stderr.trim()}`);
  return (Date.now() - started) / 1000;
}

/**
 * The start-up figures, ours and PyTorch's in alternation, {@link STARTUP_ROUNDS} rounds: create
 * with random weights (ours with the ziggurat sampler; PyTorch's module construction, then its
 * N(0, 0.02²) draw as transformers does) and, when `scored` (the checkpoint in `directory` made),
 * the first scored batch (ours: `rho-slm score` from spawn to exit, built; PyTorch: module
 * construction plus its first forward, and from spawn to its losses). An untimed create comes
 * first. Prints each round and the medians; returns the medians.
 */
async function startupRounds(directory: string, python: string, { scored }: { scored: boolean }) {
  let firstScoredBatch: (() => Promise<number>) | undefined;
  if (scored) {
    const text = join(directory, 'one.txt');
    writeFileSync(text, 'x'.repeat(POSITIONS)); // the byte tokenizer: BOS and 256 bytes, one window
    const tokens = join(directory, 'one.tok');
    await prepareCorpus({ inputs: [text], out: tokens });
    const cli = builtCli();
    firstScoredBatch = () => cliFirstScoredBatch(cli, directory, tokens);
  }
  const rounds: Record<string, number>[] = [];
  // Untimed: every timed process then follows one that freed a model's memory. The first process
  // after a quiet spell faults in colder memory (1.5-2.5 s slower here), whoever it is.
  await runWorker('create:ziggurat', directory);
  console.log(
    `  start-up, ours and PyTorch's alternated (${STARTUP_ROUNDS} rounds, after an untimed create):`,
  );
  for (let round = 1; round <= STARTUP_ROUNDS; round++) {
    const create = await runWorker('create:ziggurat', directory);
    const spawned = Date.now();
    const torch = runPythonBench(python, 'pytorch_llama.py', { ...torchSettings(), startup: true }) as {
      createSeconds: number;
      normalInitSeconds: number;
      firstForwardSeconds: number;
      firstLossAt: number;
    };
    const figures: Record<string, number> = {
      createZigguratSeconds: create.createSeconds!,
      torchCreateSeconds: torch.createSeconds,
      torchNormalCreateSeconds: torch.createSeconds + torch.normalInitSeconds,
    };
    let line = `    round ${round}: create ${fmt(figures.createZigguratSeconds!)} s (ziggurat) | PyTorch ${fmt(figures.torchCreateSeconds!)} s module construction, ${fmt(figures.torchNormalCreateSeconds!)} s with its N(0, 0.02²) draw`;
    if (firstScoredBatch !== undefined) {
      figures.firstScoredBatchSeconds = await firstScoredBatch();
      figures.torchCreateForwardSeconds = torch.createSeconds + torch.firstForwardSeconds;
      figures.torchFirstLossFromSpawnSeconds = torch.firstLossAt - spawned / 1000;
      line += `; first scored batch: rho-slm score ${fmt(figures.firstScoredBatchSeconds)} s from spawn to exit | PyTorch create + first forward ${fmt(figures.torchCreateForwardSeconds)} s, ${fmt(figures.torchFirstLossFromSpawnSeconds)} s from spawn`;
    }
    rounds.push(figures);
    console.log(line);
  }
  const medians = Object.fromEntries(
    Object.keys(rounds[0]!).map((key) => [key, median(rounds.map((figures) => figures[key]!))]),
  ) as (typeof rounds)[number];
  let ratios = `  start-up ratios (medians; PyTorch's time / ours): create ${(medians.torchNormalCreateSeconds! / medians.createZigguratSeconds!).toFixed(2)}× against N(0, 0.02²), ${(medians.torchCreateSeconds! / medians.createZigguratSeconds!).toFixed(2)}× against module construction`;
  if (scored)
    ratios += `; first scored batch ${(medians.torchCreateForwardSeconds! / medians.firstScoredBatchSeconds!).toFixed(2)}× against create + first forward, ${(medians.torchFirstLossFromSpawnSeconds! / medians.firstScoredBatchSeconds!).toFixed(2)}× from spawn`;
  console.log(ratios);
  return medians;
}

if (process.argv[2] === '--worker') await worker(process.argv[3]!, process.argv[4]!);
