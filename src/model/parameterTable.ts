// Every parameter of a Llama model by its Hugging Face name and [out, in] shape, without weights.

import { elementCount } from '../core/shape.js';
import type { LlamaConfig } from './config.js';

/** One parameter tensor: Hugging Face name and shape (`[out, in]` for projections). */
export interface ParameterSpec {
  /** Hugging Face tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  /** Shape as Hugging Face stores it. */
  shape: number[];
}

/**
 * The parameter table of a configuration in Hugging Face order and orientation: the embedding
 * `[V, D]`, per layer the two RMSNorm weights `[D]`, q/k/v/o projections (`[H·hd, D]`,
 * `[KV·hd, D]`, `[KV·hd, D]`, `[D, H·hd]`), gate/up/down (`[I, D]`, `[I, D]`, `[D, I]`), the final
 * norm `[D]` and, unless tied, `lm_head.weight` `[V, D]`.
 *
 * @param config - the model configuration
 * @returns the table; allocates no weights
 * @example
 * ```ts
 * parameterCount(parameterTable(LLAMA_PRESETS['tinyllama-1.1b'])); // 1_100_048_384
 * ```
 */
export function parameterTable(config: LlamaConfig): ParameterSpec[] {
  const D = config.hidden_size;
  const headSize = D / config.num_attention_heads;
  const queryWidth = config.num_attention_heads * headSize;
  const keyValueWidth = config.num_key_value_heads * headSize;
  const I = config.intermediate_size;
  const table: ParameterSpec[] = [{ name: 'model.embed_tokens.weight', shape: [config.vocab_size, D] }];
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const prefix = `model.layers.${layer}`;
    table.push(
      { name: `${prefix}.self_attn.q_proj.weight`, shape: [queryWidth, D] },
      { name: `${prefix}.self_attn.k_proj.weight`, shape: [keyValueWidth, D] },
      { name: `${prefix}.self_attn.v_proj.weight`, shape: [keyValueWidth, D] },
      { name: `${prefix}.self_attn.o_proj.weight`, shape: [D, queryWidth] },
      { name: `${prefix}.mlp.gate_proj.weight`, shape: [I, D] },
      { name: `${prefix}.mlp.up_proj.weight`, shape: [I, D] },
      { name: `${prefix}.mlp.down_proj.weight`, shape: [D, I] },
      { name: `${prefix}.input_layernorm.weight`, shape: [D] },
      { name: `${prefix}.post_attention_layernorm.weight`, shape: [D] },
    );
  }
  table.push({ name: 'model.norm.weight', shape: [D] });
  if (!config.tie_word_embeddings) table.push({ name: 'lm_head.weight', shape: [config.vocab_size, D] });
  return table;
}

/**
 * Total number of parameters in a table.
 *
 * @param table - from {@link parameterTable}
 * @example
 * ```ts
 * parameterCount(parameterTable(resolveLlamaConfig('nano')));
 * ```
 */
export function parameterCount(table: readonly ParameterSpec[]): number {
  return table.reduce((total, spec) => total + elementCount(spec.shape), 0);
}
