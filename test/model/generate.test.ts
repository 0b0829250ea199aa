import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/index.js';
import { pickToken } from '../../src/model/generate.js';
import { KVCache, LlamaModel } from '../../src/model/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import { expectAllClose } from '../helpers/compare.js';

beforeAll(() => activateBackend(testBackends[2]!)); // wasm, host kernels

async function lastLogits(model: LlamaModel, ids: number[]): Promise<Float32Array> {
  const input = tf.tensor2d(ids, [1, ids.length], 'int32');
  const logits = model.forward(input);
  const row = (await logits.data()).slice((ids.length - 1) * model.config.vocab_size) as Float32Array;
  tf.dispose([input, logits]);
  return row;
}

describe('KV cache', () => {
  it('gives the same logits in pieces as in one pass', async () => {
    const model = LlamaModel.create('nano', { seed: 12 });
    const ids = [7, 3, 100, 42, 9, 9, 200, 1];
    const whole = model.forward(tf.tensor2d(ids, [1, 8], 'int32'));
    const cache = new KVCache(model.config.num_hidden_layers);
    const first = model.forward(tf.tensor2d(ids.slice(0, 5), [1, 5], 'int32'), cache);
    const second = model.forward(tf.tensor2d(ids.slice(5), [1, 3], 'int32'), cache);
    expect(cache.length).toBe(8);
    const pieces = [...(await first.data()), ...(await second.data())];
    expectAllClose(pieces, await whole.data(), { abs: 2e-5, rel: 1e-4 });
    cache.dispose();
    tf.dispose([whole, first, second]);
    model.dispose();
  });
});

describe('generate', () => {
  it('is greedy at temperature 0: each token is the argmax of a full forward pass', async () => {
    const model = LlamaModel.create('nano', { seed: 3 });
    const prompt = [10, 20, 30];
    const generated = await model.generate(prompt, { maxNewTokens: 6 });
    expect(generated).toHaveLength(6);
    const sequence = [...prompt];
    for (const token of generated) {
      expect(token).toBe(pickToken(await lastLogits(model, sequence), 0, 1, createRandom(0)));
      sequence.push(token);
    }
    const tensors = tf.memory().numTensors;
    await model.generate(prompt, { maxNewTokens: 3 });
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });

  it('stops at a stop token and at the context limit; sampling is seeded', async () => {
    const model = LlamaModel.create(
      { ...LlamaModel.create('nano').config, max_position_embeddings: 8 },
      { seed: 4 },
    );
    // 8 positions, a prompt of 2: the last token is predicted from position 7, so 7 new tokens.
    const greedy = await model.generate([1, 2], { maxNewTokens: 50 });
    expect(greedy).toHaveLength(7);
    const stopped = await model.generate([1, 2], { maxNewTokens: 50, stop: [greedy[2]!] });
    expect(stopped).toEqual(greedy.slice(0, greedy.indexOf(greedy[2]!)));
    const a = await model.generate([5], { maxNewTokens: 4, temperature: 1, seed: 9 });
    const b = await model.generate([5], { maxNewTokens: 4, temperature: 1, seed: 9 });
    expect(a).toEqual(b);
    await expect(model.generate([], { maxNewTokens: 1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    model.dispose();
  });

  it('samples by temperature and truncates to the nucleus', () => {
    const logits = new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
    const random = createRandom(1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 6000; i++) counts[pickToken(logits, 1, 1, random)]!++;
    expect(Math.abs(counts[0]! / 6000 - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(counts[2]! / 6000 - 0.2)).toBeLessThan(0.03);
    const nucleus = [0, 0, 0];
    for (let i = 0; i < 2000; i++) nucleus[pickToken(logits, 1, 0.75, random)]!++;
    expect(nucleus[2]).toBe(0);
    expect(pickToken(new Float32Array([1, 3, 3, 2]), 0, 1, random)).toBe(1); // greedy ties → lower id
  });
});
