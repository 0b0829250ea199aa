// customGradient against tf.customGrad: the same gradients, no leaked tensors, and a backward pass
// whose peak memory does not hold every gradient function's temporaries and saved tensors at once.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { customGradient } from '../../src/tfjs/customGradient.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';
import { measurePeakBytes } from '../helpers/memoryMeter.js';

type CustomGrad = typeof customGradient;

/** `y = x · 1.5` with a gradient that builds two temporaries the size of `x`. */
function scaleBy(custom: CustomGrad) {
  return custom((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return {
      value: tf.mul(x, 1.5),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
        const doubled = tf.add(dy, dy);
        const withZero = tf.add(doubled, tf.mul(saved!, 0)); // reads the saved input
        return tf.mul(withZero, 0.75);
      },
    };
  });
}

/** Ten scaled copies in a chain, summed: every node holds a saved input and two gradient temporaries. */
function chain(custom: CustomGrad) {
  const scale = scaleBy(custom);
  return (x: tf.Tensor) => {
    let y = x;
    for (let i = 0; i < 10; i++) y = scale(y);
    return tf.sum(y);
  };
}

describe.each(testBackends)('customGradient on $name', (backend) => {
  beforeAll(() => activateBackend(backend));
  const size = 100_000; // 400 kB per float32 tensor

  it('gives the gradients tf.customGrad gives', async () => {
    const x = tf.randomNormal([size], 0, 1, 'float32', 3);
    const freeing = tf.grad(chain(customGradient))(x);
    const plain = tf.grad(chain(tf.customGrad as CustomGrad))(x);
    expectAllClose(await freeing.data(), await plain.data(), { abs: 0 }, 'gradient');
    tf.dispose([x, freeing, plain]);
  });

  it('frees temporaries and saved tensors during the backward pass, and leaks nothing', async () => {
    const x = tf.randomNormal([size], 0, 1, 'float32', 3);
    const tensorsBefore = tf.memory().numTensors;
    const gradient = (custom: CustomGrad) =>
      measurePeakBytes(() => {
        const grad = tf.grad(chain(custom))(x);
        grad.dispose();
      });
    const freeing = await gradient(customGradient);
    const plain = await gradient(tf.customGrad as CustomGrad);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // tf.customGrad: 10 saved inputs + 10 × (2 temporaries + 1 gradient) ≈ 40 tensors at the end;
    // customGradient: the saved inputs go as the pass reaches them and temporaries at once.
    expect(freeing.peakBytes).toBeLessThan(0.6 * plain.peakBytes);
    x.dispose();
  });
});
