// Weights in Hugging Face layout, as checkpoint readers produce and writers consume them.
import type { Placement } from '../tfjs/nativeBackend.js';
import type { LlamaConfig } from './config.js';

/** A tensor in Hugging Face layout: name, shape and float32 data. */
export interface NamedWeight {
  /** Shape as Hugging Face stores it (`[out, in]` for projections). */
  shape: number[];
  /** Row-major float32 values. */
  data: Float32Array;
}

/** Options of `LlamaModel.save`. */
export interface SaveOptions {
  /** Storage dtype of the weights. @default 'F32' */
  dtype?: 'F32' | 'BF16';
}

/** What a checkpoint writer reads of a model: its configuration and each weight by name. */
export interface WeightSource {
  /** The configuration, in Hugging Face field names. */
  readonly config: LlamaConfig;
  /** One weight in Hugging Face layout. */
  exportWeight(name: string): Promise<Float32Array>;
}

/** How a model lays out the weights it is given in Hugging Face layout. */
export interface WeightLayout {
  /** Whether the stored `[out, in]` matrix of weight `name` is kept transposed, as `[in, out]`. */
  transposed(name: string): boolean;
  /** Where `length` float32 values go: the size of their new buffer and where in it they start. */
  placement(length: number): Placement;
}
