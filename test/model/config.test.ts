import { describe, expect, it } from 'vitest';
import {
  LLAMA_PRESETS,
  parameterCount,
  parameterTable,
  resolveLlamaConfig,
  validateLlamaConfig,
} from '../../src/model/index.js';
import { expectSLMError } from '../helpers/errors.js';

describe('parameterTable', () => {
  it('matches TinyLlama-1.1B: 201 tensors, Hugging Face names and shapes, 1,100,048,384 parameters', () => {
    const table = parameterTable(LLAMA_PRESETS['tinyllama-1.1b']);
    expect(table).toHaveLength(1 + 22 * 9 + 2);
    expect(parameterCount(table)).toBe(1_100_048_384);
    const byName = new Map(table.map((spec) => [spec.name, spec.shape]));
    // Shapes as listed in TinyLlama-1.1B's model.safetensors header.
    expect(byName.get('model.embed_tokens.weight')).toEqual([32000, 2048]);
    expect(byName.get('lm_head.weight')).toEqual([32000, 2048]);
    expect(byName.get('model.norm.weight')).toEqual([2048]);
    for (let layer = 0; layer < 22; layer++) {
      const p = `model.layers.${layer}`;
      expect(byName.get(`${p}.self_attn.q_proj.weight`)).toEqual([2048, 2048]);
      expect(byName.get(`${p}.self_attn.k_proj.weight`)).toEqual([256, 2048]);
      expect(byName.get(`${p}.self_attn.v_proj.weight`)).toEqual([256, 2048]);
      expect(byName.get(`${p}.self_attn.o_proj.weight`)).toEqual([2048, 2048]);
      expect(byName.get(`${p}.mlp.gate_proj.weight`)).toEqual([5632, 2048]);
      expect(byName.get(`${p}.mlp.up_proj.weight`)).toEqual([5632, 2048]);
      expect(byName.get(`${p}.mlp.down_proj.weight`)).toEqual([2048, 5632]);
      expect(byName.get(`${p}.input_layernorm.weight`)).toEqual([2048]);
      expect(byName.get(`${p}.post_attention_layernorm.weight`)).toEqual([2048]);
    }
  });

  it('leaves out lm_head when embeddings are tied', () => {
    const table = parameterTable(LLAMA_PRESETS.demo);
    expect(table.some((spec) => spec.name === 'lm_head.weight')).toBe(false);
    expect(parameterCount(parameterTable(LLAMA_PRESETS.nano))).toBeLessThan(1_000_000);
  });
});

describe('validateLlamaConfig', () => {
  it('accepts a Hugging Face config.json and fills Hugging Face defaults', () => {
    const config = validateLlamaConfig({
      ...LLAMA_PRESETS.nano,
      architectures: ['LlamaForCausalLM'],
      rope_theta: undefined,
      tie_word_embeddings: undefined,
    });
    expect(config.rope_theta).toBe(10000);
    expect(config.tie_word_embeddings).toBe(false);
    expect(config).not.toHaveProperty('architectures');
  });

  it('names the field, its value and what was expected', () => {
    expectSLMError(
      () => validateLlamaConfig({ ...LLAMA_PRESETS.nano, hidden_size: 0 }),
      'BAD_CONFIG',
      /`hidden_size` is 0; expected an integer in \[1, 65536\]/,
    );
    expectSLMError(
      () => validateLlamaConfig({ ...LLAMA_PRESETS.nano, num_hidden_layers: 1e12 }),
      'BAD_CONFIG',
      /`num_hidden_layers` is 1000000000000; expected an integer in \[1, 1024\]/,
    );
    expectSLMError(
      () => validateLlamaConfig({ ...LLAMA_PRESETS.nano, rope_theta: JSON.parse('1e400') }),
      'BAD_CONFIG',
      /rope_theta/,
    );
    expectSLMError(
      () => validateLlamaConfig({ ...LLAMA_PRESETS.nano, num_attention_heads: 5 }),
      'BAD_CONFIG',
      /divisor of hidden_size \(32\)/,
    );
    expectSLMError(
      () => validateLlamaConfig({ ...LLAMA_PRESETS.nano, num_key_value_heads: 3 }),
      'BAD_CONFIG',
      /divisor of num_attention_heads/,
    );
    expectSLMError(
      () => validateLlamaConfig({ ...LLAMA_PRESETS.nano, rms_norm_eps: -1 }),
      'BAD_CONFIG',
      /rms_norm_eps/,
    );
    expectSLMError(() => validateLlamaConfig(null), 'BAD_CONFIG', /an object/);
    expectSLMError(
      () => resolveLlamaConfig('gpt-5' as never),
      'BAD_CONFIG',
      /'tinyllama-1.1b', 'small', 'nano', 'demo'/,
    );
  });
});
