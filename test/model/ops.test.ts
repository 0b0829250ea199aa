// The fast op layer against tfjs's own ops and gradients, on every test backend.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { unstackFast } from '../../src/heap/wasmHeap.js';
import { attention, causalBias } from '../../src/model/attention.js';
import { rmsNorm, siluProduct } from '../../src/model/layers.js';
import { batchedMatMul, embedding, linear } from '../../src/model/ops.js';
import { applyRope, ropeTables } from '../../src/model/rope.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';

describe.each(testBackends.filter((b) => b.hostKernels || (b.backend !== 'cpu' && b.backend !== 'wasm')))(
  'ops on $name',
  (backend) => {
    beforeAll(() => activateBackend(backend));

    const close = async (got: tf.Tensor, want: tf.Tensor, label: string) =>
      expectAllClose(await got.data(), await want.data(), { abs: 1e-5, rel: 1e-5 }, label);

    it('batchedMatMul equals tf.matMul for every transpose flag', async () => {
      for (const [transposeA, transposeB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const a = tf.randomNormal(transposeA ? [5, 3, 7] : [5, 7, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
        const b = tf.randomNormal(transposeB ? [5, 4, 3] : [5, 3, 4], 0, 1, 'float32', 2) as tf.Tensor3D;
        await close(
          batchedMatMul(a, b, transposeA, transposeB),
          tf.matMul(a, b, transposeA, transposeB),
          `transposeA ${transposeA}, transposeB ${transposeB}`,
        );
      }
    });

    it("linear's gradient over a large upstream with zero rows (the output layer under SLM) equals the dense products", async () => {
      const x = tf.randomNormal([1024, 64], 0, 1, 'float32', 40) as tf.Tensor2D;
      const w = tf.randomNormal([64, 4096], 0, 0.1, 'float32', 41) as tf.Tensor2D; // dy: 2²² elements
      const kept = tf.tensor2d(
        Array.from({ length: 1024 }, (_, row) => (row % 5 < 2 ? 0 : 1)),
        [1024, 1],
      );
      for (const upstream of [
        tf.mul(tf.randomNormal([1024, 4096], 0, 1, 'float32', 42), kept), // 40% of the rows zero
        tf.zeros([1024, 4096]),
      ]) {
        const [ourX, ourW] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
          tf.sum(tf.mul(linear(p as tf.Tensor2D, q as tf.Tensor2D), upstream)),
        )([x, w]);
        const [refX, refW] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(p, q), upstream)),
        )([x, w]);
        expectAllClose(await ourX!.data(), await refX!.data(), { abs: 1e-4, rel: 1e-4 }, 'dx');
        expectAllClose(await ourW!.data(), await refW!.data(), { abs: 1e-4, rel: 1e-4 }, 'dweight');
        tf.dispose([ourX!, ourW!, refX!, refW!, upstream]);
      }
      tf.dispose([x, w, kept]);
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

    it('attention: the hand-written gradient equals autograd of the plain formula (GQA, causal)', async () => {
      const [B, n, H, KV, hd] = [2, 5, 4, 2, 4];
      const D = H * hd;
      const { cos, sin } = ropeTables(n, hd, 10000);
      const bias = causalBias(n);
      const context = {
        batch: B,
        positions: n,
        heads: H,
        keyValueHeads: KV,
        headSize: hd,
        cos,
        sin,
        causalBias: bias,
      };
      const x = tf.randomNormal([B * n, D], 0, 1, 'float32', 20) as tf.Tensor2D;
      const shapes = [
        [D, H * hd],
        [D, KV * hd],
        [D, KV * hd],
        [H * hd, D],
      ];
      const weights = shapes.map(
        (shape, i) => tf.randomNormal(shape as [number, number], 0, 0.5, 'float32', 21 + i) as tf.Tensor2D,
      );
      const upstream = tf.randomNormal([B * n, D], 0, 1, 'float32', 30);
      const ours = (input: tf.Tensor, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, o: tf.Tensor) =>
        attention(input as tf.Tensor2D, { query: q, key: k, value: v, output: o } as never, context);
      const plain = (input: tf.Tensor, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, o: tf.Tensor) => {
        const heads = (t: tf.Tensor, count: number) =>
          tf.transpose(tf.reshape(tf.matMul(input, t), [B, n, count, hd]), [0, 2, 1, 3]); // [B, heads, n, hd]
        const rope = (t: tf.Tensor) =>
          tf.transpose(applyRope(tf.transpose(t, [0, 2, 1, 3]) as tf.Tensor4D, cos, sin), [0, 2, 1, 3]);
        const repeat = (
          t: tf.Tensor, // head h reads key/value head ⌊h / G⌋
        ) =>
          tf.concat(
            Array.from({ length: H }, (_, h) =>
              tf.slice(t, [0, Math.floor(h / (H / KV)), 0, 0], [B, 1, n, hd]),
            ),
            1,
          );
        const scores = tf.add(
          tf.div(tf.matMul(rope(heads(q, H)), repeat(rope(heads(k, KV))), false, true), Math.sqrt(hd)),
          bias,
        );
        const mixed = tf.matMul(tf.softmax(scores), repeat(heads(v, KV))); // [B, H, n, hd]
        return tf.matMul(tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [B * n, D]), o);
      };
      const inputs = [x, ...weights];
      await close(
        ours(x, ...(weights as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])),
        plain(x, ...(weights as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])),
        'attention forward',
      );
      const loss =
        (f: typeof plain) =>
        (...args: tf.Tensor[]) =>
          tf.sum(tf.mul(f(...(args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), upstream));
      const ourGrads = tf.grads(loss(ours))(inputs);
      const plainGrads = tf.grads(loss(plain))(inputs);
      for (const [i, name] of ['dx', 'dquery', 'dkey', 'dvalue', 'doutput'].entries())
        await close(ourGrads[i]!, plainGrads[i]!, `attention ${name}`);
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
