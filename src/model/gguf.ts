// GGUF export (version 3, F32) for llama.cpp: metadata of the llama architecture, a byte-level
// SentencePiece vocabulary when the vocabulary is the byte one (3 specials + 256 bytes), and the
// weights with the q/k row permutation llama.cpp's converter applies (rotate-half → interleaved).
import { SLMError } from '../core/errors.js';
import { elementCount } from '../core/shape.js';
import { writeAll, writeFileAtomic } from '../io/atomicFile.js';
import type { LlamaConfig } from './config.js';
import type { LlamaModel } from './llama.js';
import { parameterTable } from './parameterTable.js';

const ALIGNMENT = 32;
enum ValueType {
  Bool = 7,
  Uint32 = 4,
  Float32 = 6,
  String = 8,
  Array = 9,
  Int32 = 5,
}

/** Little-endian byte builder for the GGUF header. */
class HeaderWriter {
  readonly #chunks: Buffer[] = [];
  length = 0;
  #push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }
  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.#push(b);
  }
  i32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    this.#push(b);
  }
  u64(value: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.#push(b);
  }
  u8(value: number): void {
    this.#push(Buffer.from([value]));
  }
  f32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.#push(b);
  }
  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.#push(bytes);
  }
  pad(): void {
    this.#push(Buffer.alloc((ALIGNMENT - (this.length % ALIGNMENT)) % ALIGNMENT));
  }
  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

type MetadataValue =
  | { type: ValueType.Uint32 | ValueType.Float32 | ValueType.Int32; value: number }
  | { type: ValueType.Bool; value: boolean }
  | { type: ValueType.String; value: string }
  | { type: ValueType.Array; of: ValueType.String; values: string[] }
  | { type: ValueType.Array; of: ValueType.Float32 | ValueType.Int32; values: number[] };

function writeMetadata(header: HeaderWriter, key: string, entry: MetadataValue): void {
  header.string(key);
  header.u32(entry.type);
  if (entry.type === ValueType.Array) {
    header.u32(entry.of);
    header.u64(entry.values.length);
    for (const value of entry.values) {
      if (entry.of === ValueType.String) header.string(value as string);
      else if (entry.of === ValueType.Float32) header.f32(value as number);
      else header.i32(value as number);
    }
  } else if (entry.type === ValueType.Bool) header.u8(entry.value ? 1 : 0);
  else if (entry.type === ValueType.String) header.string(entry.value);
  else if (entry.type === ValueType.Float32) header.f32(entry.value);
  else if (entry.type === ValueType.Int32) header.i32(entry.value);
  else header.u32(entry.value);
}

/** Whether the vocabulary is the byte one: `<unk>`, `<s>`, `</s>`, then the 256 byte values. */
function isByteVocabulary(config: LlamaConfig): boolean {
  return config.vocab_size === 259;
}

function metadata(config: LlamaConfig, name: string): [string, MetadataValue][] {
  const u32 = (value: number) => ({ type: ValueType.Uint32, value }) as const;
  const f32 = (value: number) => ({ type: ValueType.Float32, value }) as const;
  const entries: [string, MetadataValue][] = [
    ['general.architecture', { type: ValueType.String, value: 'llama' }],
    ['general.name', { type: ValueType.String, value: name }],
    ['general.file_type', u32(0)],
    ['llama.context_length', u32(config.max_position_embeddings)],
    ['llama.embedding_length', u32(config.hidden_size)],
    ['llama.block_count', u32(config.num_hidden_layers)],
    ['llama.feed_forward_length', u32(config.intermediate_size)],
    ['llama.rope.dimension_count', u32(config.hidden_size / config.num_attention_heads)],
    ['llama.attention.head_count', u32(config.num_attention_heads)],
    ['llama.attention.head_count_kv', u32(config.num_key_value_heads)],
    ['llama.attention.layer_norm_rms_epsilon', f32(config.rms_norm_eps)],
    ['llama.rope.freq_base', f32(config.rope_theta)],
    ['llama.vocab_size', u32(config.vocab_size)],
  ];
  if (!isByteVocabulary(config)) return entries;
  const tokens = [
    '<unk>',
    '<s>',
    '</s>',
    ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`),
  ];
  return entries.concat([
    ['tokenizer.ggml.model', { type: ValueType.String, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: ValueType.Array, of: ValueType.String, values: tokens }],
    ['tokenizer.ggml.scores', { type: ValueType.Array, of: ValueType.Float32, values: tokens.map(() => 0) }],
    // token types: 2 unknown, 3 control, 6 byte
    [
      'tokenizer.ggml.token_type',
      {
        type: ValueType.Array,
        of: ValueType.Int32,
        values: tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : 6)),
      },
    ],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.add_bos_token', { type: ValueType.Bool, value: false }],
  ]);
}

/** llama.cpp's tensor name for a Hugging Face one. */
export function ggufTensorName(name: string): string {
  const layer = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  if (layer === null) {
    const top: Record<string, string> = {
      'model.embed_tokens.weight': 'token_embd.weight',
      'model.norm.weight': 'output_norm.weight',
      'lm_head.weight': 'output.weight',
    };
    return top[name] ?? name;
  }
  const parts: Record<string, string> = {
    'input_layernorm.weight': 'attn_norm.weight',
    'self_attn.q_proj.weight': 'attn_q.weight',
    'self_attn.k_proj.weight': 'attn_k.weight',
    'self_attn.v_proj.weight': 'attn_v.weight',
    'self_attn.o_proj.weight': 'attn_output.weight',
    'post_attention_layernorm.weight': 'ffn_norm.weight',
    'mlp.gate_proj.weight': 'ffn_gate.weight',
    'mlp.up_proj.weight': 'ffn_up.weight',
    'mlp.down_proj.weight': 'ffn_down.weight',
  };
  return `blk.${layer[1]}.${parts[layer[2]!] ?? layer[2]}`;
}

/**
 * Reorders the rows of a q or k projection `[heads·hd, in]` from Hugging Face's rotate-half layout
 * to the interleaved pairs llama.cpp rotates (row `h·hd + s·hd/2 + i` moves to `h·hd + 2i + s`).
 */
export function permuteForRope(
  data: Float32Array,
  heads: number,
  rows: number,
  columns: number,
): Float32Array {
  const headSize = rows / heads;
  const half = headSize / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < half; i++) {
        const from = (h * headSize + s * half + i) * columns;
        out.set(data.subarray(from, from + columns), (h * headSize + 2 * i + s) * columns);
      }
    }
  }
  return out;
}

/**
 * Writes a model as a GGUF v3 file (all tensors F32) that llama.cpp loads, atomically. A byte
 * vocabulary (259 ids) gets a matching SentencePiece byte tokenizer; other vocabularies get none
 * (evaluate with token ids).
 *
 * @param model - the model to export
 * @param path - the `.gguf` file to create or replace
 * @param name - `general.name`. @default 'rho-slm'
 * @throws {@link SLMError} `BAD_OPTION` for a vocabulary llama.cpp cannot load without a tokenizer
 * @example
 * ```ts
 * await exportGguf(model, 'model.gguf');
 * ```
 */
export async function exportGguf(model: LlamaModel, path: string, name = 'rho-slm'): Promise<void> {
  const config = model.config;
  if (!isByteVocabulary(config)) {
    throw new SLMError(
      'BAD_OPTION',
      `exportGguf writes byte-vocabulary models (vocab_size 259) only; this one has ${config.vocab_size}.`,
    );
  }
  const table = parameterTable(config);
  const header = new HeaderWriter();
  const entries = metadata(config, name);
  header.u32(0x46554747); // "GGUF"
  header.u32(3);
  header.u64(table.length);
  header.u64(entries.length);
  for (const [key, value] of entries) writeMetadata(header, key, value);
  let offset = 0;
  for (const spec of table) {
    header.string(ggufTensorName(spec.name));
    header.u32(spec.shape.length);
    for (const size of [...spec.shape].reverse()) header.u64(size); // ggml lists the innermost dimension first
    header.u32(0); // GGML_TYPE_F32
    header.u64(offset);
    offset += Math.ceil((elementCount(spec.shape) * 4) / ALIGNMENT) * ALIGNMENT;
  }
  header.pad();
  const headBytes = header.bytes();
  await writeFileAtomic(path, async (handle) => {
    await writeAll(handle, headBytes, 0);
    let position = headBytes.length;
    for (const spec of table) {
      let data = await model.exportWeight(spec.name);
      if (spec.name.endsWith('q_proj.weight'))
        data = permuteForRope(data, config.num_attention_heads, spec.shape[0]!, spec.shape[1]!);
      if (spec.name.endsWith('k_proj.weight'))
        data = permuteForRope(data, config.num_key_value_heads, spec.shape[0]!, spec.shape[1]!);
      const bytes = new Uint8Array(Math.ceil(data.byteLength / ALIGNMENT) * ALIGNMENT);
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      await writeAll(handle, bytes, position);
      position += bytes.length;
    }
  });
}
