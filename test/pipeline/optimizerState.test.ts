import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsInThreads } from '../../src/model/checkpoint.js';
import { AdamW } from '../../src/model/index.js';
import { readSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import { restoreOptimizerState, writeOptimizerState } from '../../src/pipeline/optimizerState.js';
import { activeNativeBackend, copiedPlacement } from '../../src/tfjs/nativeBackend.js';
import { activateBackend, testBackends } from '../helpers/backends.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-optimizer-state-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** `n` values from a seed, varied in sign and scale. */
const valuesOf = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + seed) * 10 ** ((i % 5) - 2));

describe('readSafetensorsInThreads', () => {
  it('gives every tensor readSafetensors gives (F32 and BF16), in worker threads and on this thread, at the placement asked', async () => {
    const tensors = [
      { name: 'a', shape: [3, 5] },
      { name: 'b', shape: [7] },
      { name: 'c', shape: [1] },
    ];
    for (const dtype of ['F32', 'BF16'] as const) {
      const path = join(directory, `three-${dtype}.safetensors`);
      await writeSafetensors(
        path,
        tensors,
        async (name) => valuesOf(name === 'a' ? 15 : name === 'b' ? 7 : 1, name.charCodeAt(0)),
        { dtype },
      );
      const expected = new Map<string, { shape: number[]; data: Float32Array }>();
      for await (const [name, weight] of readSafetensors(path)) expected.set(name, weight);
      for (const threads of [1, 2]) {
        const seen = new Map<string, { shape: number[]; data: Float32Array }>();
        for await (const [name, weight] of readSafetensorsInThreads(path, {
          placement: copiedPlacement,
          threads,
          alwaysParallel: true,
        })) {
          expect(weight.data.byteOffset % 8, `${name}: 4 bytes past an 8-byte boundary`).toBe(4);
          seen.set(name, weight);
        }
        expect([...seen.keys()].sort()).toEqual(['a', 'b', 'c']);
        for (const [name, { shape, data }] of expected) {
          expect(seen.get(name)!.shape).toEqual(shape);
          expect(Array.from(seen.get(name)!.data), `${dtype} ${name}, ${threads} threads`).toEqual(
            Array.from(data),
          );
        }
      }
    }
  });

  it('fails with BAD_CHECKPOINT on a corrupt file and on an unsupported dtype', async () => {
    const path = join(directory, 'corrupt.safetensors');
    await writeSafetensors(path, [{ name: 'x', shape: [64] }], async () => valuesOf(64, 1));
    const bytes = await readFile(path);
    bytes[bytes.length - 3]! ^= 0x10;
    await writeFile(path, bytes);
    const drain = async (file: string) => {
      for await (const _ of readSafetensorsInThreads(file, { placement: copiedPlacement }));
    };
    await expect(drain(path)).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: expect.stringMatching(/checksum/),
    });
    const header = JSON.stringify({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } });
    const unsupported = join(directory, 'int.safetensors');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    await writeFile(unsupported, Buffer.concat([length, Buffer.from(header), Buffer.alloc(8)]));
    await expect(drain(unsupported)).rejects.toMatchObject({
      code: 'BAD_CHECKPOINT',
      message: expect.stringMatching(/I64/),
    });
  });
});

describe.each(testBackends)('optimizer state on $name', (config) => {
  beforeAll(() => activateBackend(config));

  /** Two decaying matrices and a norm, and their fixed gradients at each step. */
  function setup() {
    const shapes = [[3, 4], [4], [2, 5]];
    const variables = shapes.map((shape, v) =>
      tf.variable(
        tf.tensor(
          valuesOf(
            shape.reduce((a, b) => a * b, 1),
            v,
          ),
          shape,
        ),
        true,
      ),
    );
    const gradientsAt = (step: number) =>
      Object.fromEntries(
        variables.map((variable, v) => [
          variable.name,
          tf.tensor(valuesOf(variable.size, v + 7 * step), variable.shape),
        ]),
      );
    const optimizer = () => new AdamW({ learningRate: (step) => 0.01 * step, weightDecay: 0.3 });
    return { variables, gradientsAt, optimizer };
  }

  /** Four steps, the optimizer written and restored into a new one after `resumeAfter` (if given). */
  async function run(resumeAfter?: number) {
    const { variables, gradientsAt, optimizer: make } = setup();
    let optimizer = make();
    for (let step = 1; step <= 4; step++) {
      const gradients = gradientsAt(step);
      optimizer.applyGradients(gradients);
      tf.dispose(Object.values(gradients));
      if (step === resumeAfter) {
        const path = join(directory, `state-${config.name}.safetensors`);
        await writeOptimizerState(path, optimizer);
        optimizer.dispose();
        const before = tf.memory().numTensors;
        optimizer = make();
        await restoreOptimizerState(path, optimizer);
        expect(optimizer.step).toBe(step);
        // the restored moments and nothing else: 2 per variable
        expect(tf.memory().numTensors).toBe(before + 2 * variables.length);
      }
    }
    const values = (await Promise.all(variables.map((variable) => variable.data()))).flatMap((v) => [...v]);
    optimizer.dispose();
    tf.dispose(variables);
    return values;
  }

  it('restores exactly what it wrote: the steps after are bit for bit those of an uninterrupted run', async () => {
    const uninterrupted = await run();
    expect(await run(2)).toEqual(uninterrupted);
  });
});

const native = testBackends.find((config) => config.backend === 'tensorflow');

describe.runIf(native !== undefined)('optimizer state on tensorflow', () => {
  it('hands every moment to TensorFlow while restoring, not at the first update (tfjs-node keeps an array until then)', async () => {
    await activateBackend(native!);
    const variable = tf.variable(tf.ones([64, 32]), true);
    const first = new AdamW({ learningRate: 0.01 });
    first.applyGradients({ [variable.name]: tf.fill([64, 32], 0.5) });
    const path = join(directory, 'native.safetensors');
    await writeOptimizerState(path, first);
    first.dispose();
    // Count the tensors tfjs-node makes in TensorFlow while restoring (its binding's functions are
    // read-only: a stand-in inherits them and counts createTensor).
    const backend = activeNativeBackend()! as unknown as {
      binding: { createTensor: (...args: unknown[]) => unknown };
    };
    const binding = backend.binding;
    const created: number[][] = [];
    const counting = Object.create(binding) as typeof binding;
    Object.defineProperty(counting, 'createTensor', {
      value: (shape: number[], ...rest: unknown[]) => {
        created.push([...shape]);
        return binding.createTensor(shape, ...rest);
      },
    });
    backend.binding = counting;
    const restored = new AdamW({ learningRate: 0.01 });
    try {
      await restoreOptimizerState(path, restored);
    } finally {
      backend.binding = binding;
    }
    expect(created.filter((shape) => shape.join() === '64,32').length, 'both moments').toBe(2);
    restored.dispose();
    variable.dispose();
  });
});
