import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectiveLoss as coreSelectiveLoss, SLMError } from '../../src/index.js';
import { createTrainStep, tokenLoss } from '../../src/tfjs/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose, expectSameMask } from '../helpers/compare.js';
import { bigramModel, randomBatch } from '../helpers/tinyModel.js';

const VOCAB = 12;

describe.each(testBackends)('createTrainStep on $name', (backend) => {
  beforeAll(() => activateBackend(backend));

  it('keeps tf.memory().numTensors flat over 200 steps', async () => {
    const model = bigramModel(VOCAB);
    const optimizer = tf.train.adam(0.05);
    const step = createTrainStep({ model, optimizer, selective: { ratio: 0.6 }, clipNorm: 1 });
    const batch = randomBatch(4, 8, VOCAB, 3);
    await step(batch);
    const before = tf.memory().numTensors;
    let last = await step(batch);
    for (let i = 0; i < 198; i++) last = await step(batch);
    expect(tf.memory().numTensors).toBe(before);
    expect(last.step).toBe(200);
    tf.dispose([batch.inputs, batch.labels, batch.refLoss, model.table]);
    optimizer.dispose();
  });

  it('selects exactly what the core selects and lowers the selective loss', async () => {
    const model = bigramModel(VOCAB, 5);
    const optimizer = tf.train.sgd(0.5);
    const step = createTrainStep({ model, optimizer, selective: { ratio: 0.5 }, keepMask: true });
    const batch = randomBatch(3, 10, VOCAB, 9);
    const labels = Array.from(await batch.labels.data());
    const modelLoss = tokenLoss(model.forward(batch.inputs), batch.labels);
    const want = coreSelectiveLoss({
      modelLoss: await modelLoss.data(),
      refLoss: await batch.refLoss.data(),
      labels,
      ratio: 0.5,
    });
    const first = await step(batch);
    expectSameMask(first.mask!, want.mask);
    expect(first.selected).toBe(want.selected);
    expectAllClose([first.loss], [want.loss], { rel: 1e-5 });
    let later = first;
    for (let i = 0; i < 20; i++) later = await step(batch);
    expect(later.loss).toBeLessThan(first.loss);
    tf.dispose([modelLoss, batch.inputs, batch.labels, batch.refLoss, model.table]);
  });

  it('exact accumulation reproduces the single-batch mask bit for bit, and its gradients', async () => {
    const batch = randomBatch(8, 6, VOCAB, 21);
    const run = async (accumulate: number, selection: 'exact' | 'one-pass', rows = batch) => {
      const model = bigramModel(VOCAB, 7);
      const step = createTrainStep({
        model,
        optimizer: tf.train.sgd(1),
        selective: { ratio: 0.3 },
        accumulate,
        selection,
        keepMask: true,
      });
      const before = await model.table.data();
      const stats = await step(rows);
      const after = await model.table.data();
      model.table.dispose();
      return { stats, update: before.map((v, i) => v - after[i]!) };
    };
    const whole = await run(1, 'exact');
    const accumulated = await run(4, 'exact');
    expectSameMask(accumulated.stats.mask!, whole.stats.mask!);
    expectAllClose([accumulated.stats.loss], [whole.stats.loss], { rel: 1e-5 });
    expectAllClose(accumulated.update, whole.update, { abs: 1e-6 });
    // One-pass promises that each micro-batch selects its own top k%: its mask is the mask of that
    // micro-batch trained alone (same starting weights), micro-batch by micro-batch.
    const onePass = await run(4, 'one-pass');
    const parts = (t: tf.Tensor2D) => tf.split(t, 4, 0) as tf.Tensor2D[];
    const [inputs, labels, refLoss] = [parts(batch.inputs), parts(batch.labels), parts(batch.refLoss)];
    const alone: number[] = [];
    for (let m = 0; m < 4; m++) {
      const part = { inputs: inputs[m]!, labels: labels[m]!, refLoss: refLoss[m]! };
      alone.push(...(await run(1, 'exact', part)).stats.mask!);
    }
    expectSameMask(onePass.stats.mask!, Uint8Array.from(alone));
    tf.dispose([batch.inputs, batch.labels, batch.refLoss, ...inputs, ...labels, ...refLoss]);
  });

  it('clips to clipNorm: reports the global norm, scales the update by clipNorm/norm, and leaves it bit for bit when under', async () => {
    const batch = randomBatch(3, 8, VOCAB, 17);
    const run = async (clipNorm?: number) => {
      const model = bigramModel(VOCAB, 13);
      const before = await model.table.data();
      const step = createTrainStep({
        model,
        optimizer: tf.train.sgd(1),
        selective: { ratio: 0.5 },
        ...(clipNorm === undefined ? {} : { clipNorm }),
      });
      const { gradNorm } = await step(batch);
      const after = await model.table.data();
      model.table.dispose();
      return { gradNorm, update: Array.from(after, (w, i) => before[i]! - w) };
    };
    const free = await run();
    expectAllClose([Math.hypot(...free.update)], [free.gradNorm], { rel: 1e-5 });
    const clipped = await run(free.gradNorm / 4);
    expect(clipped.gradNorm).toBe(free.gradNorm);
    expectAllClose(
      clipped.update,
      free.update.map((u) => u / 4),
      { abs: 5e-7, rel: 1e-5 },
    );
    const under = await run(free.gradNorm * 2);
    expect(under.update).toEqual(free.update);
    tf.dispose([batch.inputs, batch.labels, batch.refLoss]);
  });

  it('trains plain CLM when `selective` is omitted: loss is the mean valid token loss', async () => {
    const model = bigramModel(VOCAB, 11);
    const step = createTrainStep({ model, optimizer: tf.train.sgd(0.1) });
    const batch = randomBatch(2, 7, VOCAB, 4);
    const losses = await tokenLoss(model.forward(batch.inputs), batch.labels).data();
    const labels = await batch.labels.data();
    const valid = Array.from(losses).filter((_, i) => labels[i] !== -100);
    const stats = await step(batch);
    expect(stats.selected).toBe(valid.length);
    expectAllClose([stats.loss], [valid.reduce((a, b) => a + b, 0) / valid.length], { rel: 1e-5 });
    tf.dispose([batch.inputs, batch.labels, batch.refLoss, model.table]);
  });

  it('reports the global gradient norm over more variables than webgpu binds to one kernel', async () => {
    // Nine variables summing to one table: each gets the table's gradient, so the norm is 3× its.
    const whole = bigramModel(VOCAB, 13);
    const parts = Array.from({ length: 9 }, () => tf.variable(tf.div(whole.table, 9)));
    const split = {
      forward: (ids: tf.Tensor) =>
        tf.tidy(() => {
          const table = parts.reduce((sum: tf.Tensor, part) => tf.add(sum, part), tf.zerosLike(whole.table));
          const flat = tf.cast(tf.oneHot(tf.reshape(ids, [-1]), VOCAB), 'float32');
          return tf.reshape(tf.matMul(flat, table), [...ids.shape, VOCAB]);
        }),
      trainableVariables: () => parts,
    };
    const batch = randomBatch(2, 7, VOCAB, 5);
    const gradNorm = async (model: typeof split) =>
      (await createTrainStep({ model, optimizer: tf.train.sgd(0) })(batch)).gradNorm;
    expectAllClose([await gradNorm(split)], [3 * (await gradNorm(whole))], { rel: 1e-4 });
    tf.dispose([batch.inputs, batch.labels, batch.refLoss, whole.table, ...parts]);
  });

  it('throws LABEL_OUT_OF_RANGE before updating the weights', async () => {
    const model = bigramModel(VOCAB, 2);
    const step = createTrainStep({ model, optimizer: tf.train.sgd(1), selective: { ratio: 0.6 } });
    const batch = randomBatch(2, 4, VOCAB, 8);
    const badLabels = tf.tensor2d([0, 1, 2, VOCAB, 0, 1, 2, 3], [2, 4], 'int32');
    const before = await model.table.data();
    const error = await step({ ...batch, labels: badLabels }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SLMError);
    expect((error as SLMError).code).toBe('LABEL_OUT_OF_RANGE');
    expect(Array.from(await model.table.data())).toEqual(Array.from(before));
    tf.dispose([batch.inputs, batch.labels, batch.refLoss, badLabels, model.table]);
  });

  it('throws NON_FINITE for NaN reference losses and BAD_OPTION without them', async () => {
    const model = bigramModel(VOCAB, 2);
    const step = createTrainStep({ model, optimizer: tf.train.sgd(1), selective: { ratio: 0.6 } });
    const batch = randomBatch(1, 4, VOCAB, 8);
    const nanRef = tf.tensor2d([[1, Number.NaN, 1, 1]]);
    const labels = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
    await expect(step({ inputs: batch.inputs, labels, refLoss: nanRef })).rejects.toMatchObject({
      code: 'NON_FINITE',
    });
    await expect(step({ inputs: batch.inputs, labels })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    tf.dispose([batch.inputs, batch.labels, batch.refLoss, nanRef, labels, model.table]);
  });
});
