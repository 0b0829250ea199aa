import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLAMA_PRESETS, type LlamaConfig, resolveLlamaConfig } from '../../src/model/config.js';
import { type CreateOptions, LlamaModel } from '../../src/model/llama.js';
import { parameterTable } from '../../src/model/parameterTable.js';
import type { NamedWeight } from '../../src/model/weights.js';
import { createTrainStep, tokenLoss } from '../../src/tfjs/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';
import { expectSLMError } from '../helpers/errors.js';
import { referenceLlamaLogits } from '../helpers/llamaReference.js';
import { measurePeakBytes } from '../helpers/memoryMeter.js';

/** The first weight whose bits differ between `a` and `b`, where and how, or `'none'`. */
function firstDifference(a: Map<string, NamedWeight>, b: Map<string, NamedWeight>): string {
  for (const [name, { data }] of a) {
    const other = new Uint32Array(b.get(name)!.data.slice().buffer);
    const bits = new Uint32Array(data.slice().buffer);
    const differing = bits.filter((word, i) => word !== other[i]).length;
    const at = bits.findIndex((word, i) => word !== other[i]);
    if (differing > 0)
      return `${name}: ${differing} of ${bits.length} values differ, first at ${at} (${data[at]} vs ${b.get(name)!.data[at]})`;
  }
  return 'none';
}

/** nano with larger weights than the 0.02 init, so attention is far from uniform. */
async function sharpModel(config: LlamaConfig, seed: number): Promise<LlamaModel> {
  const model = LlamaModel.create(config, { seed });
  const weights = await model.exportWeights();
  model.dispose();
  for (const [name, weight] of weights) {
    const scale = name.includes('embed') ? 50 : 10;
    for (let i = 0; i < weight.data.length; i++) {
      weight.data[i] =
        weight.shape.length === 2 ? weight.data[i]! * scale : 1 + 0.1 * Math.sin(i + name.length);
    }
  }
  return LlamaModel.fromWeights(config, weights);
}

const configs: [string, LlamaConfig][] = [
  ['nano (GQA 4/2, untied)', LLAMA_PRESETS.nano],
  ['tied, MHA', { ...LLAMA_PRESETS.nano, num_key_value_heads: 4, tie_word_embeddings: true, vocab_size: 50 }],
  ['MQA (1 KV head)', { ...LLAMA_PRESETS.nano, num_key_value_heads: 1, vocab_size: 40 }],
];

describe.each(testBackends.filter((b) => b.hostKernels || b.backend === 'tensorflow'))(
  'LlamaModel on $name',
  (backend) => {
    beforeAll(() => activateBackend(backend));

    it.each(configs)('forward matches the float64 reference: %s', async (_name, config) => {
      const model = await sharpModel(config, 3);
      const weights = await model.exportWeights();
      const sequences = [
        [1, 5, 9, 2, 7, 7, 3, 0, 11],
        [4, 4, 4, 8, 1, 0, 2, 6, 13],
      ];
      const logits = model.forward(tf.tensor2d(sequences, [2, 9], 'int32'));
      const got = await logits.data();
      const V = config.vocab_size;
      sequences.forEach((ids, b) => {
        const want = referenceLlamaLogits(config, weights, ids).flatMap((row) => Array.from(row));
        expectAllClose(
          got.subarray(b * 9 * V, (b + 1) * 9 * V),
          want,
          { abs: 1e-4, rel: 1e-4 },
          `sequence ${b}`,
        );
      });
      logits.dispose();
      model.dispose();
    });

    it('is causal: later tokens do not change earlier logits', async () => {
      const model = LlamaModel.create('nano', { seed: 2 });
      const a = model.forward(tf.tensor2d([[3, 1, 4, 1, 5]], [1, 5], 'int32'));
      const b = model.forward(tf.tensor2d([[3, 1, 4, 9, 9]], [1, 5], 'int32'));
      const V = LLAMA_PRESETS.nano.vocab_size;
      expectAllClose((await a.data()).subarray(0, 3 * V), (await b.data()).subarray(0, 3 * V), { abs: 1e-6 });
      tf.dispose([a, b]);
      model.dispose();
    });

    it('trains with createTrainStep: loss falls, tensor count stays flat', async () => {
      const model = LlamaModel.create('nano', { seed: 5 });
      const text = Array.from('the quick brown fox jumps over the lazy dog. '.repeat(3), (ch) =>
        ch.charCodeAt(0),
      );
      const T = 32;
      const ids = tf.tensor2d([text.slice(0, T), text.slice(10, 10 + T)], [2, T], 'int32');
      const labels = tf.tensor2d([text.slice(1, T + 1), text.slice(11, 11 + T)], [2, T], 'int32');
      const refLoss = tf.fill([2, T], 2);
      const step = createTrainStep({ model, optimizer: tf.train.adam(0.01), selective: { ratio: 0.6 } });
      const first = await step({ inputs: ids, labels, refLoss });
      await step({ inputs: ids, labels, refLoss });
      const tensors = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 28; i++) last = await step({ inputs: ids, labels, refLoss });
      expect(tf.memory().numTensors).toBe(tensors);
      expect(last.loss).toBeLessThan(first.loss * 0.8);
      tf.dispose([ids, labels, refLoss]);
      model.dispose();
    });
  },
);

describe('LlamaModel gradients', () => {
  beforeAll(() => activateBackend(testBackends[0]!));
  afterAll(() => tf.setBackend('cpu'));

  it('of the embedding, attention and output weights match central differences on cpu', async () => {
    const model = await sharpModel({ ...LLAMA_PRESETS.nano, vocab_size: 30 }, 9);
    const ids = tf.tensor2d([[1, 2, 3, 1, 29, 0]], [1, 6], 'int32');
    const lossOf = () => tf.mean(model.forward(ids).square()) as tf.Scalar;
    const ours = tf.variableGrads(lossOf, model.trainableVariables());
    const variables = model.trainableVariables();
    const probes = [variables[0]!, variables[1]!, variables[2]!, variables[5]!, variables.at(-1)!]; // embed, q, k, gate, lm_head
    const numeric = probes.map((variable) => {
      const values = variable.dataSync().slice();
      // For the embedding, a row that ids use (id 1); elsewhere the middle entry.
      const index = variable === variables[0] ? LLAMA_PRESETS.nano.hidden_size + 3 : values.length >> 1;
      const h = 1e-3;
      const at = (delta: number) => {
        const perturbed = values.slice(); // the cpu backend adopts arrays: never reuse one
        perturbed[index] = perturbed[index]! + delta;
        variable.assign(tf.tensor(perturbed, variable.shape));
        return lossOf().dataSync()[0]!;
      };
      const estimate = (at(h) - at(-h)) / (2 * h);
      variable.assign(tf.tensor(values.slice(), variable.shape));
      return { name: variable.name, estimate, analytic: ours.grads[variable.name]!.dataSync()[index]! };
    });
    for (const { name, estimate, analytic } of numeric) {
      expect(Math.abs(analytic), `${name} probes a weight that matters`).toBeGreaterThan(1e-5);
      expect(
        Math.abs(estimate - analytic),
        `${name}: numeric ${estimate}, analytic ${analytic}`,
      ).toBeLessThan(2e-2 * Math.abs(analytic) + 1e-4);
    }
    tf.dispose([ids, ours.value, ...Object.values(ours.grads)]);
    model.dispose();
  });
});

describe('LlamaModel.create with the ziggurat sampler', () => {
  beforeAll(() => activateBackend(testBackends[0]!));

  it('gives one model per seed, other numbers than the default sampler, norms of ones; an unknown sampler is refused', async () => {
    const weights = async (options: CreateOptions) => {
      const model = LlamaModel.create('nano', options);
      const exported = await model.exportWeights();
      model.dispose();
      return exported;
    };
    const ziggurat = await weights({ seed: 5, sampler: 'ziggurat' });
    // drawn largest first, kept in the table's order
    expect([...ziggurat.keys()]).toEqual(parameterTable(resolveLlamaConfig('nano')).map((spec) => spec.name));
    expect(firstDifference(ziggurat, await weights({ seed: 5, sampler: 'ziggurat' }))).toBe('none');
    expect(firstDifference(ziggurat, await weights({ seed: 5 }))).toMatch(/^model\.embed_tokens\.weight: /);
    expect(firstDifference(ziggurat, await weights({ seed: 6, sampler: 'ziggurat' }))).not.toBe('none');
    for (const [name, { data }] of ziggurat) {
      if (name.endsWith('norm.weight'))
        expect(
          data.every((value) => value === 1),
          name,
        ).toBe(true);
      else {
        const spread = Math.sqrt(data.reduce((sum, value) => sum + value * value, 0) / data.length);
        expect(spread, name).toBeGreaterThan(0.016);
        expect(spread, name).toBeLessThan(0.024); // std 0.02
      }
    }
    expectSLMError(
      () => LlamaModel.create('nano', { sampler: 'box-muller' as 'tfjs' }),
      'BAD_OPTION',
      /sampler must be 'tfjs' or 'ziggurat', got "box-muller"/,
    );
  });
});

describe.runIf(testBackends.some((config) => config.backend === 'tensorflow'))(
  'weights on the native backend',
  () => {
    it('are handed to TensorFlow as they are made or read, not held in JavaScript until first use', async () => {
      await activateBackend(testBackends.find((config) => config.backend === 'tensorflow')!);
      const backend = tf.backend() as unknown as { tensorMap: { get(id: object): { values: unknown } } };
      const pending = (model: LlamaModel) =>
        model
          .trainableVariables()
          .filter((variable) => backend.tensorMap.get(variable.dataId)!.values != null);
      const created = LlamaModel.create(LLAMA_PRESETS.nano, { seed: 3 });
      expect(pending(created)).toEqual([]);
      const copy = LlamaModel.fromWeights(created.config, await created.exportWeights());
      expect(pending(copy)).toEqual([]);
      // Same values as before (writing is not a change of numbers).
      const [a, b] = [created, copy].map((model) => model.trainableVariables()[1]!.dataSync());
      expect(Array.from(b!)).toEqual(Array.from(a!));
      created.dispose();
      copy.dispose();
      await activateBackend(testBackends[0]!);
    });

    it('are the same when made (in worker threads, by either sampler) and loaded as on the cpu backend', async () => {
      const directory = await mkdtemp(join(tmpdir(), 'rho-slm-native-weights-'));
      try {
        await activateBackend(testBackends[0]!); // cpu
        // 18.4 M parameters: enough for worker threads to draw the weights.
        const config = { ...LLAMA_PRESETS.nano, vocab_size: 32000, hidden_size: 288 };
        const reference = LlamaModel.create(config, { seed: 8 });
        const expected = await reference.exportWeights();
        await reference.save(directory, { dtype: 'F32' });
        reference.dispose();
        // The ziggurat's pieces (its embedding in 10) written into TensorFlow one by one.
        const ziggurat = LlamaModel.create(config, { seed: 8, sampler: 'ziggurat' });
        const expectedZiggurat = await ziggurat.exportWeights();
        ziggurat.dispose();
        await activateBackend(testBackends.find((config) => config.backend === 'tensorflow')!);
        for (const how of ['created', 'created by the ziggurat', 'loaded'] as const) {
          const model =
            how === 'loaded'
              ? await LlamaModel.load(directory)
              : LlamaModel.create(config, { seed: 8, sampler: how === 'created' ? 'tfjs' : 'ziggurat' });
          const weights = await model.exportWeights();
          model.dispose();
          expect(
            firstDifference(how === 'created by the ziggurat' ? expectedZiggurat : expected, weights),
            `${how} on tensorflow vs on cpu`,
          ).toBe('none');
        }
      } finally {
        await activateBackend(testBackends[0]!);
        await rm(directory, { recursive: true, force: true });
      }
    });
  },
);

describe.each(testBackends)('an inference forward on $name', (backendConfig) => {
  beforeAll(() => activateBackend(backendConfig));

  it('frees each layer’s intermediates as it goes: its peak does not grow with depth', async () => {
    const peakOf = async (layers: number) => {
      const config: LlamaConfig = { ...LLAMA_PRESETS.nano, hidden_size: 64, num_hidden_layers: layers };
      const model = LlamaModel.create(config, { seed: 2 });
      const ids = tf.randomUniform([2, 64], 0, config.vocab_size, 'int32', 5);
      const { peakBytes } = await measurePeakBytes(async () => {
        const logits = model.forward(ids);
        await logits.data();
        logits.dispose();
      });
      tf.dispose(ids);
      model.dispose();
      return peakBytes;
    };
    const [shallow, deep] = [await peakOf(2), await peakOf(8)];
    // One scope for the whole forward held every layer's attention scores and MLP activations:
    // 8 layers peaked at about 3× the 2-layer peak.
    expect(deep).toBeLessThan(1.3 * shallow);
  });
});

describe.each(testBackends)('recomputeActivations on $name', (backendConfig) => {
  beforeAll(() => activateBackend(backendConfig));
  const config: LlamaConfig = { ...LLAMA_PRESETS.nano, max_position_embeddings: 64 };

  // Read with data(), not dataSync(): WebGPU in Node cannot read synchronously.
  async function gradients(model: LlamaModel, ids: tf.Tensor, labels: tf.Tensor) {
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tokenLoss(model.forward(ids), labels)) as tf.Scalar,
      model.trainableVariables(),
    );
    const entries = Object.entries(grads);
    const values = await Promise.all([value, ...entries.map(([, g]) => g)].map((t) => t.data()));
    const result = {
      loss: values[0]![0]!,
      grads: Object.fromEntries(entries.map(([name], i) => [name, Array.from(values[i + 1]!)])),
    };
    tf.dispose([value, ...Object.values(grads)]);
    return result;
  }

  it('gives the same loss and gradients as keeping the activations', async () => {
    const model = LlamaModel.create(config, { seed: 5 });
    const ids = tf.randomUniform([2, 48], 0, config.vocab_size, 'int32', 1);
    const labels = tf.randomUniform([2, 48], 0, config.vocab_size, 'int32', 2);
    const kept = await gradients(model, ids, labels);
    model.recomputeActivations = true;
    const before = tf.memory().numTensors;
    const recomputed = await gradients(model, ids, labels);
    expect(tf.memory().numTensors).toBe(before);
    expect(recomputed.loss).toBeCloseTo(kept.loss, 6);
    expect(Object.keys(recomputed.grads)).toEqual(Object.keys(kept.grads));
    for (const name of Object.keys(kept.grads))
      expectAllClose(recomputed.grads[name]!, kept.grads[name]!, { abs: 1e-6, rel: 1e-5 }, name);
    tf.dispose([ids, labels]);
    model.dispose();
  });

  it('keeps less memory alive during the backward pass', async () => {
    const wide: LlamaConfig = { ...config, num_hidden_layers: 4, max_position_embeddings: 128 };
    const model = LlamaModel.create(wide, { seed: 6 });
    const ids = tf.randomUniform([4, 128], 0, wide.vocab_size, 'int32', 3);
    const labels = tf.randomUniform([4, 128], 0, wide.vocab_size, 'int32', 4);
    const peak = async () => (await measurePeakBytes(() => gradients(model, ids, labels))).peakBytes;
    const kept = await peak();
    model.recomputeActivations = true;
    const recomputed = await peak();
    // Four layers' attention scores [4, 4, 128, 128] and MLP activations are no longer kept
    // (measured 0.55–0.61 of the peak; the logits and their gradient remain).
    expect(recomputed).toBeLessThan(0.7 * kept);
    tf.dispose([ids, labels]);
    model.dispose();
  });
});
