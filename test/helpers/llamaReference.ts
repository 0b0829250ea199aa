// A float64 Llama forward pass written from the Hugging Face modeling code with plain loops: the
// in-repo oracle for LlamaModel.forward (weights in Hugging Face layout, [out, in]).
import type { LlamaConfig } from '../../src/model/config.js';
import type { NamedWeight } from '../../src/model/weights.js';

type Matrix = Float64Array[]; // rows

function project(rows: Matrix, weight: NamedWeight): Matrix {
  const [out, inner] = weight.shape as [number, number];
  return rows.map((row) => {
    const result = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let sum = 0;
      for (let i = 0; i < inner; i++) sum += row[i]! * weight.data[o * inner + i]!;
      result[o] = sum;
    }
    return result;
  });
}

function rmsNorm(rows: Matrix, weight: NamedWeight, eps: number): Matrix {
  return rows.map((row) => {
    const meanSquare = row.reduce((acc, v) => acc + v * v, 0) / row.length;
    const scale = 1 / Math.sqrt(meanSquare + eps);
    return row.map((v, i) => v * scale * weight.data[i]!);
  });
}

function rope(rows: Matrix, heads: number, headSize: number, theta: number): Matrix {
  const half = headSize / 2;
  return rows.map((row, t) => {
    const out = new Float64Array(row.length);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < headSize; i++) {
        const frequency = Math.fround(1 / Math.fround(theta ** Math.fround((2 * (i % half)) / headSize)));
        const angle = Math.fround(t * frequency);
        const x = row[h * headSize + i]!;
        const partner = i < half ? -row[h * headSize + i + half]! : row[h * headSize + i - half]!;
        out[h * headSize + i] = x * Math.cos(angle) + partner * Math.sin(angle);
      }
    }
    return out;
  });
}

/** Logits `[T][V]` for one sequence. */
export function referenceLlamaLogits(
  config: LlamaConfig,
  weights: ReadonlyMap<string, NamedWeight>,
  ids: number[],
): Matrix {
  const get = (name: string) => weights.get(name)!;
  const D = config.hidden_size;
  const H = config.num_attention_heads;
  const KV = config.num_key_value_heads;
  const hd = D / H;
  const embed = get('model.embed_tokens.weight');
  let x: Matrix = ids.map((id) => Float64Array.from(embed.data.subarray(id * D, (id + 1) * D)));
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const p = `model.layers.${layer}`;
    const h = rmsNorm(x, get(`${p}.input_layernorm.weight`), config.rms_norm_eps);
    const q = rope(project(h, get(`${p}.self_attn.q_proj.weight`)), H, hd, config.rope_theta);
    const k = rope(project(h, get(`${p}.self_attn.k_proj.weight`)), KV, hd, config.rope_theta);
    const v = project(h, get(`${p}.self_attn.v_proj.weight`));
    const mixed: Matrix = ids.map(() => new Float64Array(H * hd));
    for (let head = 0; head < H; head++) {
      const kvHead = Math.floor(head / (H / KV));
      for (let t = 0; t < ids.length; t++) {
        const scores = Array.from({ length: t + 1 }, (_, s) => {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += q[t]![head * hd + i]! * k[s]![kvHead * hd + i]!;
          return dot / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= t; s++) {
          for (let i = 0; i < hd; i++)
            mixed[t]![head * hd + i]! += (exps[s]! / total) * v[s]![kvHead * hd + i]!;
        }
      }
    }
    const attended = project(mixed, get(`${p}.self_attn.o_proj.weight`));
    x = x.map((row, t) => row.map((value, i) => value + attended[t]![i]!));
    const normed = rmsNorm(x, get(`${p}.post_attention_layernorm.weight`), config.rms_norm_eps);
    const gate = project(normed, get(`${p}.mlp.gate_proj.weight`));
    const up = project(normed, get(`${p}.mlp.up_proj.weight`));
    const inner = gate.map((row, t) => row.map((g, i) => (g / (1 + Math.exp(-g))) * up[t]![i]!));
    const down = project(inner, get(`${p}.mlp.down_proj.weight`));
    x = x.map((row, t) => row.map((value, i) => value + down[t]![i]!));
  }
  const final = rmsNorm(x, get('model.norm.weight'), config.rms_norm_eps);
  return project(final, config.tie_word_embeddings ? embed : get('lm_head.weight'));
}
