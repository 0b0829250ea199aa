import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, warmupCosineSchedule } from '../../src/model/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';
import { expectSLMError } from '../helpers/errors.js';
import { measurePeakBytes } from '../helpers/memoryMeter.js';

beforeAll(() => activateBackend(testBackends[0]!));

describe('AdamW', () => {
  it.each(testBackends)(
    'matches a float64 reference for three steps, decaying matrices only, on $name',
    async (config) => {
      await activateBackend(config);
      const matrix = tf.variable(
        tf.tensor2d([
          [1, -2],
          [0.5, 3],
        ]),
        true,
        'adamw_matrix',
      );
      const norm = tf.variable(tf.tensor1d([1, 2]), true, 'adamw_norm');
      const optimizer = new AdamW({
        learningRate: (step) => 0.1 * step,
        beta1: 0.9,
        beta2: 0.99,
        epsilon: 1e-8,
        weightDecay: 0.5,
      });
      const gradients = [
        [0.5, -1, 0.25, 2, 1, -1],
        [0.1, 0.2, -0.3, 0.4, 0.5, 0.6],
        [-1, 1, -1, 1, 2, 2],
      ];
      let w = [1, -2, 0.5, 3, 1, 2];
      const m = new Array(6).fill(0);
      const v = new Array(6).fill(0);
      for (const [index, g] of gradients.entries()) {
        const step = index + 1;
        optimizer.applyGradients({
          adamw_matrix: tf.tensor2d(g.slice(0, 4), [2, 2]),
          adamw_norm: tf.tensor1d(g.slice(4)),
        });
        const lr = 0.1 * step;
        w = w.map((weight, i) => {
          m[i] = 0.9 * m[i] + 0.1 * g[i]!;
          v[i] = 0.99 * v[i] + 0.01 * g[i]! ** 2;
          const adaptive = m[i] / (1 - 0.9 ** step) / (Math.sqrt(v[i] / (1 - 0.99 ** step)) + 1e-8);
          return weight - lr * (adaptive + (i < 4 ? 0.5 * weight : 0));
        });
        expectAllClose(
          [...(await matrix.data()), ...(await norm.data())],
          w,
          { abs: 1e-5, rel: 1e-5 },
          `step ${step}`,
        );
      }
      expect(optimizer.step).toBe(3);
      const state = await optimizer.getWeights();
      expect(state.map((s) => s.name)).toEqual([
        'iter',
        'adamw_matrix/m',
        'adamw_matrix/v',
        'adamw_norm/m',
        'adamw_norm/v',
      ]);
      optimizer.dispose();
      tf.dispose([matrix, norm]);
    },
  );

  describe.each(testBackends)('on $name', (config) => {
    beforeAll(() => activateBackend(config));

    /** Three variables (two decaying matrices, one norm), updated 4 steps with fixed gradients. */
    async function run(
      groupElements: number,
      resumeAfter?: number,
      scaled?: { scale: number; how: 'scale first' | 'applyScaledGradients' },
    ) {
      const shapes = [[3, 4], [4], [2, 5]];
      const variables = shapes.map((shape, v) =>
        tf.tidy(() => tf.variable(tf.tensor(seq(shape, v), shape), true)),
      );
      const gradientsAt = (step: number) =>
        Object.fromEntries(
          variables.map((variable, v) => [
            variable.name,
            tf.tensor(seq(variable.shape, v + 7 * step), variable.shape),
          ]),
        );
      let optimizer = new AdamW({ learningRate: (step) => 0.01 * step, weightDecay: 0.3, groupElements });
      const counts: number[] = [];
      for (let step = 1; step <= 4; step++) {
        const gradients = gradientsAt(step);
        if (scaled === undefined) optimizer.applyGradients(gradients);
        else if (scaled.how === 'scale first') {
          const copies = tf.tidy(() =>
            Object.fromEntries(Object.entries(gradients).map(([name, g]) => [name, tf.mul(g, scaled.scale)])),
          );
          optimizer.applyGradients(copies);
          tf.dispose(Object.values(copies));
        } else {
          optimizer.applyScaledGradients(gradients, scaled.scale);
          expect(Object.values(gradients).every((g) => g.isDisposed)).toBe(true);
        }
        tf.dispose(Object.values(gradients));
        counts.push(tf.memory().numTensors);
        if (step === resumeAfter) {
          const state = await optimizer.getWeights();
          optimizer.dispose();
          optimizer = new AdamW({ learningRate: (s) => 0.01 * s, weightDecay: 0.3, groupElements });
          await optimizer.setWeights(state);
          tf.dispose(state.map((entry) => entry.tensor));
        }
      }
      const values = await Promise.all(variables.map((variable) => variable.data()));
      optimizer.dispose();
      tf.dispose(variables);
      return { values: values.flatMap((v) => [...v]), counts };
    }

    function seq(shape: number[], offset: number): number[] {
      const size = shape.reduce((a, b) => a * b, 1);
      return Array.from({ length: size }, (_, i) => Math.sin(1.3 * i + offset));
    }

    it('updates in flat groups exactly as one variable at a time, and resumes exactly from getWeights', async () => {
      const perVariable = await run(1);
      for (const groupElements of [12, 16, 2 ** 22]) {
        const grouped = await run(groupElements);
        expect(grouped.values).toEqual(perVariable.values);
      }
      const resumed = await run(2 ** 22, 2);
      expect(resumed.values).toEqual(perVariable.values);
    });

    it('stateEntries lists getWeights’ names, shapes and values, copies nothing until read, and survives a restore', async () => {
      const variables = [[3, 4], [4], [2, 5]].map((shape, v) =>
        tf.tidy(() => tf.variable(tf.tensor(seq(shape, v), shape), true)),
      );
      const optimizer = new AdamW({ learningRate: 0.01, groupElements: 16 });
      for (let step = 1; step <= 2; step++)
        optimizer.applyScaledGradients(
          Object.fromEntries(
            variables.map((variable, v) => [
              variable.name,
              tf.tensor(seq(variable.shape, v + 3 * step), variable.shape),
            ]),
          ),
          0.5,
        );
      const before = tf.memory().numTensors;
      const entries = optimizer.stateEntries();
      expect(tf.memory().numTensors).toBe(before);
      const read = async (list: typeof entries) =>
        Promise.all(list.map(async (entry) => [entry.name, entry.shape, Array.from(await entry.read())]));
      const listed = await read(entries);
      expect(tf.memory().numTensors).toBe(before);
      expect(listed[0]).toEqual(['iter', [], [2]]);
      const weights = await optimizer.getWeights();
      expect(listed).toEqual(
        await Promise.all(
          weights.map(async (w) => [w.name, w.tensor.shape, Array.from(await w.tensor.data())]),
        ),
      );
      const restored = new AdamW({ learningRate: 0.01, groupElements: 16 });
      await restored.setWeights(weights);
      expect(await read(restored.stateEntries())).toEqual(listed);
      tf.dispose([...weights.map((w) => w.tensor), ...variables]);
      optimizer.dispose();
      restored.dispose();
    });

    it('applyScaledGradients is bit for bit applyGradients on scaled gradients, and frees every gradient', async () => {
      for (const groupElements of [1, 16]) {
        const reference = await run(groupElements, undefined, { scale: 0.37, how: 'scale first' });
        const released = await run(groupElements, undefined, { scale: 0.37, how: 'applyScaledGradients' });
        expect(released.values).toEqual(reference.values);
        expect(new Set(released.counts.slice(1)).size).toBe(1);
      }
      const unscaled = await run(16);
      expect((await run(16, undefined, { scale: 1, how: 'applyScaledGradients' })).values).toEqual(
        unscaled.values,
      );
    });

    it('applyScaledGradients holds one scaled gradient at a time, where scaling first holds all', async () => {
      const shape = [100, 400]; // three decaying matrices, a group each: 160 kB a copy
      const variables = [0, 1, 2].map((v) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', v), true));
      const optimizer = new AdamW({ learningRate: 0.01, groupElements: 40_000 });
      const gradients = () =>
        Object.fromEntries(
          variables.map((v, i) => [v.name, tf.randomNormal(shape, 0, 1, 'float32', 10 + i)]),
        );
      const warm = gradients();
      optimizer.applyScaledGradients(warm, 0.5); // creates the moments
      const first = gradients();
      const { peakBytes: scaledFirst } = await measurePeakBytes(() => {
        const copies = tf.tidy(() =>
          Object.fromEntries(Object.entries(first).map(([name, g]) => [name, tf.mul(g, 0.5)])),
        );
        optimizer.applyGradients(copies);
        tf.dispose(Object.values(copies));
      });
      tf.dispose(Object.values(first));
      const second = gradients();
      const { peakBytes: released } = await measurePeakBytes(() =>
        optimizer.applyScaledGradients(second, 0.5),
      );
      // Scaling first keeps three scaled copies alive through the update; releasing keeps at most one.
      expect(scaledFirst - released).toBeGreaterThanOrEqual(2 * 40_000 * 4);
      optimizer.dispose();
      tf.dispose(variables);
    });

    it('leaves tensors that share a weight’s or a gradient’s data as they were (in-place updates copy on write)', async () => {
      const shape = [4, 8];
      const values = (offset: number) => Array.from({ length: 32 }, (_, i) => Math.cos(0.7 * i + offset));
      const variable = tf.variable(tf.tensor(values(0), shape), true);
      const optimizer = new AdamW({ learningRate: 0.1, weightDecay: 0.5 });
      const gradientAt = (step: number) => ({ [variable.name]: tf.tensor(values(step), shape) });
      optimizer.applyScaledGradients(gradientAt(1), 0.5); // moments made; the weight now in place
      const weightBefore = [...(await variable.data())];
      const cloned = tf.clone(variable); // the same data, one more tfjs tensor on it
      const reshaped = tf.reshape(variable, [32]); // a new tensor on the same buffer (tensorflow)
      const gradients = gradientAt(2);
      const gradientCopy = tf.clone(gradients[variable.name]!);
      const gradientView = tf.reshape(gradients[variable.name]!, [32]);
      optimizer.applyScaledGradients(gradients, 0.25);
      const weightAfter = [...(await variable.data())];
      expect(weightAfter).not.toEqual(weightBefore);
      expect([...(await cloned.data())]).toEqual(weightBefore);
      expect([...(await reshaped.data())]).toEqual(weightBefore);
      expect([...(await gradientCopy.data())]).toEqual([...Float32Array.from(values(2))]);
      expect([...(await gradientView.data())]).toEqual([...Float32Array.from(values(2))]);
      tf.dispose([cloned, reshaped, gradientCopy, gradientView]);
      // the same update with nothing shared gives the same weights
      const alone = tf.variable(tf.tensor(values(0), shape), true);
      const twin = new AdamW({ learningRate: 0.1, weightDecay: 0.5 });
      for (const [step, scale] of [
        [1, 0.5],
        [2, 0.25],
      ] as const)
        twin.applyScaledGradients({ [alone.name]: tf.tensor(values(step), shape) }, scale);
      expect([...(await alone.data())]).toEqual(weightAfter);
      optimizer.dispose();
      twin.dispose();
      tf.dispose([variable, alone]);
    });

    it('keeps tf.memory().numTensors flat from step to step, and frees everything on dispose', async () => {
      const before = tf.memory().numTensors;
      const { counts } = await run(16);
      expect(new Set(counts.slice(1)).size).toBe(1);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('holds at most six buffers the size of a group while updating it', async () => {
      const [rows, columns] = [200, 500]; // one decaying matrix, a group of its own: 400 kB a copy
      const variable = tf.variable(tf.randomNormal([rows, columns], 0, 1, 'float32', 4), true);
      const gradient = tf.randomNormal([rows, columns], 0, 1, 'float32', 5);
      const optimizer = new AdamW({ learningRate: 0.01 });
      optimizer.applyGradients({ [variable.name]: gradient }); // creates the moments
      const { peakBytes } = await measurePeakBytes(() =>
        optimizer.applyGradients({ [variable.name]: gradient }),
      );
      // new moments (2), the step, the decayed and the updated weight (+1 on tensorflow, where the
      // meter counts a reshape's new data id); each expression's temporaries freed at once (was 11)
      expect(peakBytes / (variable.size * 4)).toBeLessThanOrEqual(6);
      optimizer.dispose();
      tf.dispose([variable, gradient]);
    });
  });

  it.runIf(testBackends.some((config) => config.backend === 'tensorflow'))(
    'on tensorflow, updates a weight in place: the variable keeps its data, and only shared data is copied',
    async () => {
      await activateBackend(testBackends.find((c) => c.backend === 'tensorflow')!);
      const weight = tf.variable(tf.randomNormal([16, 16], 0, 1, 'float32', 1), true);
      const optimizer = new AdamW({ learningRate: 0.05, weightDecay: 0.2 });
      const step = () => optimizer.applyScaledGradients({ [weight.name]: tf.onesLike(weight) }, 0.5);
      step();
      const data = weight.dataId;
      step();
      expect(weight.dataId).toBe(data);
      const snapshot = tf.clone(weight); // a second tfjs tensor on the data: the update replaces it
      step();
      expect(weight.dataId).not.toBe(data);
      expect(snapshot.dataId).toBe(data);
      optimizer.dispose();
      tf.dispose([weight, snapshot]);
    },
  );

  it.runIf(testBackends.some((config) => config.backend === 'tensorflow'))(
    'carries its moments across a backend change between steps (tensorflow, then cpu)',
    async () => {
      const [cpu, native] = ['cpu', 'tensorflow'].map(
        (name) => testBackends.find((c) => c.backend === name)!,
      );
      async function train(backends: (typeof testBackends)[number][]) {
        await activateBackend(backends[0]!);
        const weight = tf.variable(tf.tensor2d([0.5, -1, 2, 0.25, -0.75, 1.5], [2, 3]), true);
        const optimizer = new AdamW({ learningRate: 0.05, weightDecay: 0.2 });
        for (const [step, config] of backends.entries()) {
          await activateBackend(config);
          const gradient = tf.tensor2d([1, -2, 0.5, step, 3, -1], [2, 3]);
          optimizer.applyGradients({ [weight.name]: gradient });
          gradient.dispose();
        }
        const values = [...(await weight.data())];
        optimizer.dispose();
        weight.dispose();
        return values;
      }
      const switched = await train([native!, native!, cpu!, cpu!]);
      expectAllClose(switched, await train([cpu!, cpu!, cpu!, cpu!]), { abs: 1e-6, rel: 1e-6 });
    },
  );

  it('rejects a bad scale in applyScaledGradients, still freeing the gradients', () => {
    const variable = tf.variable(tf.ones([2, 2]), true);
    const gradient = tf.ones([2, 2]);
    const optimizer = new AdamW({ learningRate: 0.01 });
    expectSLMError(
      () => optimizer.applyScaledGradients({ [variable.name]: gradient }, Number.NaN),
      'BAD_OPTION',
      /scale/,
    );
    expect(gradient.isDisposed).toBe(true);
    optimizer.dispose();
    variable.dispose();
  });

  it('rejects bad hyper-parameters', () => {
    expectSLMError(() => new AdamW({ learningRate: -1 }), 'BAD_OPTION', /learningRate/);
    expectSLMError(() => new AdamW({ learningRate: 1, beta2: 1 }), 'BAD_OPTION', /beta2/);
    expectSLMError(() => new AdamW({ learningRate: 1, groupElements: 0 }), 'BAD_OPTION', /groupElements/);
  });
});

describe('warmupCosineSchedule', () => {
  it('warms up linearly, then follows a cosine to the floor', () => {
    const lr = warmupCosineSchedule({ peak: 1, warmupSteps: 10, totalSteps: 110, floor: 0.1 });
    expect(lr(5)).toBeCloseTo(0.5, 12);
    expect(lr(10)).toBeCloseTo(1, 12);
    expect(lr(60)).toBeCloseTo(0.55, 12);
    expect(lr(110)).toBeCloseTo(0.1, 12);
    expect(lr(500)).toBeCloseTo(0.1, 12);
    expectSLMError(
      () => warmupCosineSchedule({ peak: 1, warmupSteps: 10, totalSteps: 5 }),
      'BAD_OPTION',
      /totalSteps/,
    );
  });
});
