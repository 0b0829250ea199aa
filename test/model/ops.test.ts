// The fast op layer against tfjs's own ops and gradients, on every test backend.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { unstackFast } from '../../src/heap/wasmHeap.js';
import { rmsNorm, siluProduct } from '../../src/model/layers.js';
import { embedding, groupedMatMul, linear } from '../../src/model/ops.js';
import { applyRope, ropeTables } from '../../src/model/rope.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';

describe.each(testBackends.filter((b) => b.hostKernels || (b.backend !== 'cpu' && b.backend !== 'wasm')))(
  'ops on $name',
  (backend) => {
    beforeAll(() => activateBackend(backend));

    const close = async (got: tf.Tensor, want: tf.Tensor, label: string) =>
      expectAllClose(await got.data(), await want.data(), { abs: 1e-5, rel: 1e-5 }, label);

    it('groupedMatMul and its gradients equal tf.matMul', async () => {
      const a = tf.randomNormal([5, 7, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
      const b = tf.randomNormal([5, 3, 4], 0, 1, 'float32', 2) as tf.Tensor3D;
      const upstream = tf.randomNormal([5, 7, 4], 0, 1, 'float32', 3);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(groupedMatMul(x as tf.Tensor3D, y as tf.Tensor3D), upstream)),
      );
      const theirs = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), upstream)));
      await close(groupedMatMul(a, b), tf.matMul(a, b), 'forward');
      const [oursA, oursB] = ours([a, b]);
      const [theirsA, theirsB] = theirs([a, b]);
      await close(oursA!, theirsA!, 'da');
      await close(oursB!, theirsB!, 'db');
    });

    it('linear and embedding gradients equal tf.matMul and a one-hot product', async () => {
      const x = tf.randomNormal([6, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
      const w = tf.randomNormal([4, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
      const [ourX, ourW] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.square(linear(p as tf.Tensor2D, q as tf.Tensor2D))),
      )([x, w]);
      const [refX, refW] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q))))([
        x,
        w,
      ]);
      await close(ourX!, refX!, 'dx');
      await close(ourW!, refW!, 'dw');
      const table = tf.randomNormal([5, 3], 0, 1, 'float32', 6) as tf.Tensor2D;
      const ids = tf.tensor1d([4, 1, 1, 0], 'int32');
      const ourTable = tf.grad((t: tf.Tensor) => tf.sum(tf.square(embedding(ids, t as tf.Tensor2D))))(table);
      const refTable = tf.grad((t: tf.Tensor) =>
        tf.sum(tf.square(tf.matMul(tf.oneHot(ids, 5).toFloat(), t))),
      )(table);
      await close(ourTable, refTable, 'dtable (repeated id 1 sums)');
    });

    it('rmsNorm, siluProduct and applyRope: hand-written gradients equal autograd of the plain formulas', async () => {
      const x = tf.randomNormal([6, 8], 0, 1, 'float32', 8) as tf.Tensor2D;
      const weight = tf.randomNormal([8], 1, 0.3, 'float32', 9) as tf.Tensor1D;
      const upstream = tf.randomNormal([6, 8], 0, 1, 'float32', 10);
      const plainNorm = (p: tf.Tensor, q: tf.Tensor) =>
        tf.mul(tf.mul(p, tf.rsqrt(tf.add(tf.mean(tf.square(p), 1, true), 1e-5))), q);
      await close(rmsNorm(x, weight, 1e-5), plainNorm(x, weight), 'rmsNorm forward');
      const [ourX, ourW] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.mul(rmsNorm(p as tf.Tensor2D, q as tf.Tensor1D, 1e-5), upstream)),
      )([x, weight]);
      const [refX, refW] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
        tf.sum(tf.mul(plainNorm(p, q), upstream)),
      )([x, weight]);
      await close(ourX!, refX!, 'rmsNorm dx');
      await close(ourW!, refW!, 'rmsNorm dweight');

      const gate = tf.randomNormal([6, 8], 0, 2, 'float32', 11) as tf.Tensor2D;
      const plainSilu = (g: tf.Tensor, u: tf.Tensor) => tf.mul(tf.mul(g, tf.sigmoid(g)), u);
      await close(siluProduct(gate, x), plainSilu(gate, x), 'siluProduct forward');
      const [ourGate, ourUp] = tf.grads((g: tf.Tensor, u: tf.Tensor) =>
        tf.sum(tf.mul(siluProduct(g as tf.Tensor2D, u as tf.Tensor2D), upstream)),
      )([gate, x]);
      const [refGate, refUp] = tf.grads((g: tf.Tensor, u: tf.Tensor) =>
        tf.sum(tf.mul(plainSilu(g, u), upstream)),
      )([gate, x]);
      await close(ourGate!, refGate!, 'siluProduct dgate');
      await close(ourUp!, refUp!, 'siluProduct dup');

      const { cos, sin } = ropeTables(3, 4, 10000);
      const heads = tf.randomNormal([2, 3, 2, 4], 0, 1, 'float32', 12) as tf.Tensor4D;
      const headsUpstream = tf.randomNormal([2, 3, 2, 4], 0, 1, 'float32', 13);
      const plainRope = (h: tf.Tensor) => {
        const [first, second] = tf.split(h, 2, 3);
        const rotated = tf.concat([tf.neg(second!), first!], 3);
        return tf.add(
          tf.mul(h, tf.reshape(cos, [1, 3, 1, 4])),
          tf.mul(rotated, tf.reshape(sin, [1, 3, 1, 4])),
        );
      };
      await close(applyRope(heads, cos, sin), plainRope(heads), 'applyRope forward');
      await close(
        tf.grad((h: tf.Tensor) => tf.sum(tf.mul(applyRope(h as tf.Tensor4D, cos, sin), headsUpstream)))(
          heads,
        ),
        tf.grad((h: tf.Tensor) => tf.sum(tf.mul(plainRope(h), headsUpstream)))(heads),
        'applyRope dx',
      );
    });

    it('unstackFast equals tf.unstack', async () => {
      const x = tf.randomNormal([3, 2, 5], 0, 1, 'float32', 7);
      const ours = unstackFast(x);
      const theirs = tf.unstack(x);
      expect(ours).toHaveLength(3);
      for (let i = 0; i < 3; i++) await close(ours[i]!, theirs[i]!, `slice ${i}`);
    });
  },
);
