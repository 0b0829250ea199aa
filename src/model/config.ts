// The Llama configuration in Hugging Face field names, its validation, and the bundled presets.
import { SLMError } from '../core/errors.js';

/**
 * A Llama-architecture configuration with Hugging Face `config.json` field names.
 * Shape letters: `D` = hidden_size, `L` = num_hidden_layers, `H` = num_attention_heads,
 * `KV` = num_key_value_heads, `I` = intermediate_size, `V` = vocab_size, `hd = D / H`.
 */
export interface LlamaConfig {
  /** Model width `D`. */
  hidden_size: number;
  /** Transformer blocks `L`. */
  num_hidden_layers: number;
  /** Query heads `H`; `D` must be a multiple of it. */
  num_attention_heads: number;
  /** Key/value heads `KV` (grouped-query attention); `H` must be a multiple of it. */
  num_key_value_heads: number;
  /** SwiGLU hidden width `I`. */
  intermediate_size: number;
  /** Vocabulary size `V`. */
  vocab_size: number;
  /** RMSNorm epsilon. */
  rms_norm_eps: number;
  /** RoPE base θ. */
  rope_theta: number;
  /** Longest sequence the model is meant for (RoPE tables are built up to it). */
  max_position_embeddings: number;
  /** Whether the output projection shares the embedding matrix. */
  tie_word_embeddings: boolean;
}

/** Names of the bundled presets. */
export type LlamaPresetName = 'tinyllama-1.1b' | 'small' | 'nano' | 'demo';

/** The bundled configurations. */
export const LLAMA_PRESETS: Readonly<Record<LlamaPresetName, Readonly<LlamaConfig>>> = {
  /** Exactly TinyLlama-1.1B (and Rho-Math-1B): 1,100,048,384 parameters. */
  'tinyllama-1.1b': {
    hidden_size: 2048,
    num_hidden_layers: 22,
    num_attention_heads: 32,
    num_key_value_heads: 4,
    intermediate_size: 5632,
    vocab_size: 32000,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 2048,
    tie_word_embeddings: false,
  },
  /**
   * A real-tokenizer model for one CPU (the native backend's benchmark size): Llama-2 vocabulary
   * (32,000), 8 layers of width 512, GQA with 2 query heads per KV head, 56,369,664 parameters.
   */
  small: {
    hidden_size: 512,
    num_hidden_layers: 8,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    intermediate_size: 1408,
    vocab_size: 32000,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 256,
    tie_word_embeddings: false,
  },
  /** For tests: byte vocabulary, GQA with 2 query heads per KV head, 35,168 parameters. */
  nano: {
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 64,
    vocab_size: 259,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 128,
    tie_word_embeddings: false,
  },
  /** For the demo on 2 cores: byte vocabulary, tied embeddings, 771,584 parameters, 128 positions. */
  demo: {
    hidden_size: 128,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 352,
    vocab_size: 259,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 128,
    tie_word_embeddings: true,
  },
};

/**
 * Integer fields and the largest value each may take: far above any released Llama, low enough that
 * a corrupt `config.json` is rejected instead of exhausting memory while building the model.
 */
const POSITIVE_INTEGER_FIELDS = {
  hidden_size: 2 ** 16,
  num_hidden_layers: 2 ** 10,
  num_attention_heads: 2 ** 12,
  num_key_value_heads: 2 ** 12,
  intermediate_size: 2 ** 20,
  vocab_size: 2 ** 24,
  max_position_embeddings: 2 ** 24,
} as const;

function fail(field: string, value: unknown, expected: string): never {
  throw new SLMError(
    'BAD_CONFIG',
    `LlamaConfig field \`${field}\` is ${JSON.stringify(value)}; expected ${expected}.`,
  );
}

/**
 * Validates a configuration (e.g. a parsed Hugging Face `config.json`; unknown fields are ignored)
 * and returns exactly the fields the model uses. `tie_word_embeddings` defaults to `false` and
 * `rope_theta` to 10000 when absent, as in Hugging Face.
 *
 * @param config - the configuration to check
 * @returns a clean {@link LlamaConfig}
 * @throws {@link SLMError} `BAD_CONFIG` naming the field, its value and what was expected
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * const config = validateLlamaConfig(JSON.parse(await readFile('config.json', 'utf8')));
 * ```
 */
export function validateLlamaConfig(config: unknown): LlamaConfig {
  if (typeof config !== 'object' || config === null) fail('(config)', config, 'an object');
  const source = config as Record<string, unknown>;
  for (const [field, limit] of Object.entries(POSITIVE_INTEGER_FIELDS)) {
    const value = source[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > limit)
      fail(field, value, `an integer in [1, ${limit}]`);
  }
  const clean: LlamaConfig = {
    hidden_size: source.hidden_size as number,
    num_hidden_layers: source.num_hidden_layers as number,
    num_attention_heads: source.num_attention_heads as number,
    num_key_value_heads: source.num_key_value_heads as number,
    intermediate_size: source.intermediate_size as number,
    vocab_size: source.vocab_size as number,
    rms_norm_eps: (source.rms_norm_eps ?? 1e-6) as number,
    rope_theta: (source.rope_theta ?? 10000) as number,
    max_position_embeddings: source.max_position_embeddings as number,
    tie_word_embeddings: (source.tie_word_embeddings ?? false) as boolean,
  };
  if (clean.hidden_size % clean.num_attention_heads !== 0) {
    fail('num_attention_heads', clean.num_attention_heads, `a divisor of hidden_size (${clean.hidden_size})`);
  }
  if ((clean.hidden_size / clean.num_attention_heads) % 2 !== 0) {
    fail(
      'num_attention_heads',
      clean.num_attention_heads,
      'a head size hidden_size / num_attention_heads that is even (RoPE rotates pairs)',
    );
  }
  if (clean.num_attention_heads % clean.num_key_value_heads !== 0) {
    fail(
      'num_key_value_heads',
      clean.num_key_value_heads,
      `a divisor of num_attention_heads (${clean.num_attention_heads})`,
    );
  }
  if (!(typeof clean.rms_norm_eps === 'number' && clean.rms_norm_eps > 0 && clean.rms_norm_eps < 1))
    fail('rms_norm_eps', clean.rms_norm_eps, 'a number in (0, 1)');
  if (!(typeof clean.rope_theta === 'number' && clean.rope_theta > 1 && Number.isFinite(clean.rope_theta)))
    fail('rope_theta', clean.rope_theta, 'a finite number > 1');
  if (typeof clean.tie_word_embeddings !== 'boolean')
    fail('tie_word_embeddings', clean.tie_word_embeddings, 'a boolean');
  return clean;
}

/**
 * A preset by name, or a validated copy of a configuration object.
 *
 * @param config - a preset name or a configuration
 * @throws {@link SLMError} `BAD_CONFIG` for an unknown preset or an invalid configuration
 * @example
 * ```ts
 * resolveLlamaConfig('nano').hidden_size; // 32
 * ```
 */
export function resolveLlamaConfig(config: LlamaPresetName | LlamaConfig): LlamaConfig {
  if (typeof config === 'string') {
    const preset = LLAMA_PRESETS[config as LlamaPresetName];
    if (preset === undefined)
      fail(
        '(preset)',
        config,
        `one of ${Object.keys(LLAMA_PRESETS)
          .map((n) => `'${n}'`)
          .join(', ')}`,
      );
    return { ...preset };
  }
  return validateLlamaConfig(config);
}
