// Keys and values of the positions a model has already seen, for incremental decoding.
import * as tf from '@tensorflow/tfjs';
import type { LayerCache } from './attention.js';

/**
 * A key/value cache: pass it to `LlamaModel.forward` to process a sequence in pieces; each call
 * attends to everything cached before and appends its own positions. Owns its tensors: dispose it.
 *
 * @example
 * ```ts
 * const cache = new KVCache(model.config.num_hidden_layers);
 * model.forward(promptIds, cache); // [1, n, V]
 * model.forward(nextId, cache);    // [1, 1, V], attends to the prompt
 * cache.dispose();
 * ```
 */
export class KVCache {
  /** Per-layer keys and values, `[B, length, KV, hd]` each. */
  readonly layers: LayerCache[];

  /** @param layerCount - the model's `num_hidden_layers` */
  constructor(layerCount: number) {
    this.layers = Array.from({ length: layerCount }, () => ({ keys: null, values: null }));
  }

  /** Positions cached so far. */
  get length(): number {
    return this.layers[0]?.keys?.shape[1] ?? 0;
  }

  /** Frees every cached tensor; the cache is then empty and reusable. */
  dispose(): void {
    for (const layer of this.layers) {
      tf.dispose([layer.keys, layer.values].filter((t): t is tf.Tensor4D => t !== null));
      layer.keys = null;
      layer.values = null;
    }
  }
}
