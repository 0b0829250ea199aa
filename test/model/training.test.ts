import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, warmupCosineSchedule } from '../../src/model/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';
import { expectSLMError } from '../helpers/errors.js';

beforeAll(() => activateBackend(testBackends[0]!));

describe('AdamW', () => {
  it('matches a float64 reference for three steps, decaying matrices only', async () => {
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
  });

  it('rejects bad hyper-parameters', () => {
    expectSLMError(() => new AdamW({ learningRate: -1 }), 'BAD_OPTION', /learningRate/);
    expectSLMError(() => new AdamW({ learningRate: 1, beta2: 1 }), 'BAD_OPTION', /beta2/);
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
