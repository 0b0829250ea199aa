import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportGguf, ggufTensorName, LlamaModel, permuteForRope } from '../../src/model/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';

beforeAll(() => activateBackend(testBackends[0]!));

describe('GGUF export', () => {
  it('writes a GGUF v3 header with every tensor (llama.cpp itself checks the rest: npm run test:oracle)', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'rho-slm-gguf-'));
    const model = LlamaModel.create('nano', { seed: 1 });
    const path = join(directory, 'nano.gguf');
    await exportGguf(model, path);
    const bytes = await readFile(path);
    expect(bytes.toString('ascii', 0, 4)).toBe('GGUF');
    expect(bytes.readUInt32LE(4)).toBe(3);
    expect(Number(bytes.readBigUInt64LE(8))).toBe(1 + 2 * 9 + 2);
    expect(bytes.includes(Buffer.from('blk.1.attn_k.weight'))).toBe(true);
    model.dispose();
    await rm(directory, { recursive: true, force: true });
  });

  it('refuses vocabularies it has no tokenizer for', async () => {
    const model = LlamaModel.create({ ...LlamaModel.create('nano').config, vocab_size: 100 });
    await expect(exportGguf(model, join(tmpdir(), 'never.gguf'))).rejects.toMatchObject({
      code: 'BAD_OPTION',
    });
    model.dispose();
  });

  it("maps names and permutes q/k rows from rotate-half to llama.cpp's interleaved pairs", () => {
    expect(ggufTensorName('model.layers.3.self_attn.o_proj.weight')).toBe('blk.3.attn_output.weight');
    expect(ggufTensorName('model.embed_tokens.weight')).toBe('token_embd.weight');
    expect(ggufTensorName('lm_head.weight')).toBe('output.weight');
    // One head of size 4, one column: rows [x0, x1, x2, x3] pair (x0, x2) and (x1, x3).
    expect(Array.from(permuteForRope(new Float32Array([0, 1, 2, 3, 10, 11, 12, 13]), 2, 8, 1))).toEqual([
      0, 2, 1, 3, 10, 12, 11, 13,
    ]);
  });
});
