// The kernels rho-slm adds to wasm: each against a float64 definition, the cpu backend's own kernel
// and central differences; then real tf.layers language models trained with createTrainStep on
// wasm, step for step against the same model on cpu.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainStep, registerWasmKernels, silenceNodeBanner, useBackend } from '../../src/tfjs/index.js';
import { expectAllClose } from '../helpers/compare.js';
import { centralDifferences } from '../helpers/gradients.js';

/** Runs `kernel` on `backend` with float inputs copied in, and returns its output values. */
async function runKernel(
  backend: 'cpu' | 'wasm',
  kernel: string,
  inputs: Record<string, { values: ArrayLike<number>; shape: number[]; dtype: 'float32' | 'int32' }>,
  attrs: object,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(
    Object.entries(inputs).map(([name, input]) => [name, tf.tensor(input.values, input.shape, input.dtype)]),
  );
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: (await out.data()) as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

/** Float64 `Σ_{i: ids[i] = s} x[i, :]` for `x` `[n, inner]`. */
function segmentSumReference(x: ArrayLike<number>, ids: ArrayLike<number>, segments: number): Float64Array {
  const inner = x.length / ids.length;
  const out = new Float64Array(segments * inner);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s >= 0 && s < segments) for (let j = 0; j < inner; j++) out[s * inner + j]! += x[i * inner + j]!;
  }
  return out;
}

/** Float64 NHWC convolution `[B, outH, outW, O]` with explicit top/left padding. */
function conv2dReference(
  x: ArrayLike<number>,
  [batch, height, width, channels]: number[],
  filter: ArrayLike<number>,
  [fh, fw, , outChannels]: number[],
  [sh, sw]: number[],
  [outH, outW]: number[],
  [top, left]: number[],
): Float64Array {
  const out = new Float64Array(batch! * outH! * outW! * outChannels!);
  for (let b = 0; b < batch!; b++)
    for (let y = 0; y < outH!; y++)
      for (let c = 0; c < outW!; c++)
        for (let o = 0; o < outChannels!; o++) {
          let sum = 0;
          for (let r = 0; r < fh!; r++)
            for (let q = 0; q < fw!; q++) {
              const row = y * sh! + r - top!;
              const col = c * sw! + q - left!;
              if (row < 0 || row >= height! || col < 0 || col >= width!) continue;
              for (let i = 0; i < channels!; i++)
                sum +=
                  x[((b * height! + row) * width! + col) * channels! + i]! *
                  filter[((r * fw! + q) * channels! + i) * outChannels! + o]!;
            }
          out[((b * outH! + y) * outW! + c) * outChannels! + o] = sum;
        }
  return out;
}

function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

beforeAll(async () => {
  silenceNodeBanner();
  await useBackend('wasm');
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('UnsortedSegmentSum on wasm', () => {
  it('is registered, and matches a float64 sum and the cpu kernel (ids out of range dropped)', async () => {
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        async (rows, inner, segments, seed) => {
          const x = randomValues(rows * inner, seed);
          const ids = Int32Array.from(
            randomValues(rows, seed + 1),
            (v) => Math.floor((v + 1) * (segments + 1)) - 1,
          );
          const inputs = {
            x: { values: x, shape: [rows, inner], dtype: 'float32' as const },
            segmentIds: { values: ids, shape: [rows], dtype: 'int32' as const },
          };
          const wasm = await runKernel('wasm', 'UnsortedSegmentSum', inputs, { numSegments: segments });
          const cpu = await runKernel('cpu', 'UnsortedSegmentSum', inputs, { numSegments: segments });
          expect(wasm.shape).toEqual([segments, inner]);
          expectAllClose(wasm.values, segmentSumReference(x, ids, segments), { abs: 1e-6, rel: 1e-6 });
          expectAllClose(wasm.values, cpu.values, { abs: 1e-5, rel: 1e-5 });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("takes segment ids of rank 2 with TensorFlow's meaning (the cpu kernel cannot broadcast them)", async () => {
    const x = randomValues(2 * 3 * 4, 5);
    const ids = [0, 2, 2, 1, 0, 3];
    const inputs = {
      x: { values: x, shape: [2, 3, 4], dtype: 'float32' as const },
      segmentIds: { values: ids, shape: [2, 3], dtype: 'int32' as const },
    };
    const wasm = await runKernel('wasm', 'UnsortedSegmentSum', inputs, { numSegments: 3 });
    expect(wasm.shape).toEqual([3, 4]);
    expectAllClose(wasm.values, segmentSumReference(x, ids, 3), { abs: 1e-6 });
  });

  it("gives tf.gather's gradient: central differences of Σ w · gather(params, ids)", async () => {
    await tf.setBackend('wasm');
    const params = randomValues(5 * 3, 11);
    const ids = [4, 0, 4, 2, 4, 1];
    const weights = randomValues(ids.length * 3, 12);
    const grad = tf.grad((p: tf.Tensor) =>
      tf.sum(tf.mul(tf.gather(p, tf.tensor1d(ids, 'int32')), tf.tensor2d(weights, [ids.length, 3]))),
    )(tf.tensor2d(params, [5, 3]));
    const objective = (p: Float64Array) =>
      ids.reduce(
        (total, id, i) => total + [0, 1, 2].reduce((s, j) => s + p[id * 3 + j]! * weights[i * 3 + j]!, 0),
        0,
      );
    expectAllClose(await grad.data(), centralDifferences(objective, Float64Array.from(params)), {
      abs: 1e-5,
    });
    grad.dispose();
  });
});

describe('Conv2DBackpropFilter on wasm', () => {
  it('matches the cpu kernel in both data formats, any stride and padding', async () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          batch: fc.integer({ min: 1, max: 2 }),
          height: fc.integer({ min: 1, max: 5 }),
          width: fc.integer({ min: 1, max: 6 }),
          channels: fc.integer({ min: 1, max: 3 }),
          outChannels: fc.integer({ min: 1, max: 3 }),
          fh: fc.integer({ min: 1, max: 3 }),
          fw: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          pad: fc.constantFrom('same', 'valid'),
          dataFormat: fc.constantFrom('NHWC', 'NCHW'),
          seed: fc.integer(),
        }),
        async (c) => {
          fc.pre(c.pad === 'same' || (c.fh <= c.height && c.fw <= c.width));
          const filterShape = [c.fh, c.fw, c.channels, c.outChannels];
          const xShape =
            c.dataFormat === 'NHWC'
              ? [c.batch, c.height, c.width, c.channels]
              : [c.batch, c.channels, c.height, c.width];
          const info = tf.backend_util.computeConv2DInfo(
            xShape as [number, number, number, number],
            filterShape as [number, number, number, number],
            c.stride,
            1,
            c.pad,
            undefined,
            false,
            c.dataFormat === 'NHWC' ? 'channelsLast' : 'channelsFirst',
          );
          const dyShape =
            c.dataFormat === 'NHWC'
              ? [c.batch, info.outHeight, info.outWidth, c.outChannels]
              : [c.batch, c.outChannels, info.outHeight, info.outWidth];
          const inputs = {
            x: {
              values: randomValues(
                xShape.reduce((a, b) => a * b),
                c.seed,
              ),
              shape: xShape,
              dtype: 'float32' as const,
            },
            dy: {
              values: randomValues(
                dyShape.reduce((a, b) => a * b),
                c.seed + 1,
              ),
              shape: dyShape,
              dtype: 'float32' as const,
            },
          };
          const attrs = { strides: c.stride, pad: c.pad, dataFormat: c.dataFormat, filterShape };
          const wasm = await runKernel('wasm', 'Conv2DBackpropFilter', inputs, attrs);
          const cpu = await runKernel('cpu', 'Conv2DBackpropFilter', inputs, attrs);
          expect(wasm.shape).toEqual(filterShape);
          expectAllClose(wasm.values, cpu.values, { abs: 1e-5, rel: 1e-5 });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("gives tf.conv2d's filter gradient: central differences of Σ dy · conv2d(x, W)", async () => {
    await tf.setBackend('wasm');
    const xShape = [2, 4, 5, 2];
    const filterShape = [3, 2, 2, 3];
    const x = randomValues(2 * 4 * 5 * 2, 21);
    const filter = randomValues(3 * 2 * 2 * 3, 22);
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      [2, 1],
      1,
      'same',
    );
    const outShape = [2, info.outHeight, info.outWidth, 3];
    const dy = randomValues(
      outShape.reduce((a, b) => a * b),
      23,
    );
    const grad = tf.grad((w: tf.Tensor) =>
      tf.sum(
        tf.mul(
          tf.conv2d(
            tf.tensor4d(x, xShape as [number, number, number, number]),
            w as tf.Tensor4D,
            [2, 1],
            'same',
          ),
          tf.tensor(dy, outShape),
        ),
      ),
    )(tf.tensor4d(filter, filterShape as [number, number, number, number]));
    const objective = (w: Float64Array) =>
      conv2dReference(
        x,
        xShape,
        w,
        filterShape,
        [2, 1],
        [info.outHeight, info.outWidth],
        [info.padInfo.top, info.padInfo.left],
      ).reduce((total, value, i) => total + value * dy[i]!, 0);
    expectAllClose(await grad.data(), centralDifferences(objective, Float64Array.from(filter)), {
      abs: 1e-4,
    });
    grad.dispose();
  });
});

const VOCAB = 13;
const T = 6;
const B = 3;

/** Language models built only from tf.layers, each `[B, T]` ids → `[B, T, V]` logits. */
const layerModels: Record<string, () => tf.layers.Layer[]> = {
  'embedding + dense': () => [],
  layerNormalization: () => [tf.layers.layerNormalization()],
  lstm: () => [tf.layers.lstm({ units: 8, returnSequences: true })],
  gru: () => [tf.layers.gru({ units: 8, returnSequences: true })],
  simpleRNN: () => [tf.layers.simpleRNN({ units: 8, returnSequences: true })],
  conv1d: () => [tf.layers.conv1d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' })],
};

function buildModel(hidden: tf.layers.Layer[], dropout = 0): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: VOCAB, outputDim: 8, inputLength: T }),
      ...hidden,
      ...(dropout > 0 ? [tf.layers.dropout({ rate: dropout })] : []),
      tf.layers.dense({ units: VOCAB }),
    ],
  });
}

/** Ids `[B, T]` and next-token labels, fixed. */
function lmBatch(): { inputs: tf.Tensor; labels: tf.Tensor } {
  const ids = Array.from({ length: B * (T + 1) }, (_, i) => (i * 7 + 3) % VOCAB);
  const rows = Array.from({ length: B }, (_, b) => ids.slice(b * (T + 1), (b + 1) * (T + 1)));
  return {
    inputs: tf.tensor2d(
      rows.map((r) => r.slice(0, T)),
      [B, T],
      'int32',
    ),
    labels: tf.tensor2d(
      rows.map((r) => r.slice(1)),
      [B, T],
      'int32',
    ),
  };
}

/** Causal-LM losses of `steps` SGD steps from the given weights, with createTrainStep on `backend`. */
async function trainLosses(
  backend: 'cpu' | 'wasm',
  makeHidden: () => tf.layers.Layer[],
  weights: { values: Float32Array; shape: number[] }[],
  steps: number,
): Promise<number[]> {
  await tf.setBackend(backend);
  const model = buildModel(makeHidden());
  model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
  const step = createTrainStep({
    params: model.trainableWeights.map((w) => w.read() as tf.Variable),
    forward: (ids) => model.apply(ids) as tf.Tensor,
    optimizer: tf.train.sgd(1),
  });
  const batch = lmBatch();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await step(batch)).loss);
  tf.dispose([batch.inputs, batch.labels]);
  model.dispose();
  return losses;
}

describe('tf.layers language models train with createTrainStep on wasm', () => {
  it.each(Object.keys(layerModels))('%s: the same losses as on cpu, step for step', async (name) => {
    await tf.setBackend('cpu');
    const initial = buildModel(layerModels[name]!());
    const weights = initial
      .getWeights()
      .map((w) => ({ values: w.dataSync() as Float32Array, shape: w.shape }));
    initial.dispose();
    const cpu = await trainLosses('cpu', layerModels[name]!, weights, 4);
    const wasm = await trainLosses('wasm', layerModels[name]!, weights, 4);
    expectAllClose(wasm, cpu, { rel: 1e-4 }, name);
    expect(wasm[3]!).toBeLessThan(wasm[0]!);
  });

  it('with dropout in training mode: loss falls over 30 steps', async () => {
    await tf.setBackend('wasm');
    const model = buildModel([tf.layers.layerNormalization()], 0.2);
    const step = createTrainStep({
      params: model.trainableWeights.map((w) => w.read() as tf.Variable),
      forward: (ids) => model.apply(ids, { training: true }) as tf.Tensor,
      optimizer: tf.train.adam(0.05),
    });
    const batch = lmBatch();
    const first = await step(batch);
    let last = first;
    for (let i = 0; i < 30; i++) last = await step(batch);
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    tf.dispose([batch.inputs, batch.labels]);
    model.dispose();
  });

  it('registerWasmKernels is idempotent and leaves no Emscripten rethrow listeners behind', () => {
    registerWasmKernels();
    registerWasmKernels();
    const sources = [
      ...process.listeners('uncaughtException'),
      ...process.listeners('unhandledRejection'),
    ].map(String);
    expect(sources.filter((source) => /throw \w+;?\s*\}?\s*\}$/.test(source.trim()))).toEqual([]);
  });
});
