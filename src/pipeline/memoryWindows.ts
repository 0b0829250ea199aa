// Windows over an in-memory token array (the demo, the study, the playground): batches for the
// training loop and per-position losses of a model on every window.
import type { LlamaModel } from '../model/llama.js';
import { windowLosses } from './tokenLosses.js';
import type { HostBatch, WindowSource } from './trainingLoop.js';

/** Windows of `T + 1` tokens over an in-memory corpus: window `w` covers tokens `[w·T, w·T + T]`. */
export class TokenWindows {
  /** Number of whole windows. */
  readonly count: number;
  /**
   * @param tokens - the corpus, `[N]`
   * @param seqLen - window length `T`
   */
  constructor(
    readonly tokens: Int32Array,
    readonly seqLen: number,
  ) {
    this.count = Math.max(0, Math.floor((tokens.length - 1) / seqLen));
  }

  /** Inputs and targets `[B·T]` of `windows`. */
  batch(windows: readonly number[]): { inputs: Int32Array; targets: Int32Array } {
    const T = this.seqLen;
    const inputs = new Int32Array(windows.length * T);
    const targets = new Int32Array(windows.length * T);
    windows.forEach((window, row) => {
      inputs.set(this.tokens.subarray(window * T, window * T + T), row * T);
      targets.set(this.tokens.subarray(window * T + 1, window * T + T + 1), row * T);
    });
    return { inputs, targets };
  }

  /** Rows `[B·T]` of a per-position array `[count·T]` (e.g. reference losses) for `windows`. */
  rows<A extends Float32Array | Uint8Array>(values: A, windows: readonly number[]): A {
    const T = this.seqLen;
    const out = new (values.constructor as new (length: number) => A)(windows.length * T);
    windows.forEach((window, row) => {
      out.set(values.subarray(window * T, window * T + T), row * T);
    });
    return out;
  }
}

/** Options of {@link memorySource}. */
export interface MemorySourceOptions {
  /** Reference losses per position `[count·T]`: batches carry them for selective training. */
  refLoss?: Float32Array;
  /** Per position `[count·T]`, 1 where the target is not trained on (its label becomes -100). */
  ignore?: Uint8Array;
}

/** A {@link WindowSource} that reads synchronously from memory. */
export interface MemoryWindowSource extends WindowSource {
  /** The batch of `windows` (row `b` is window `windows[b]`). */
  read(windows: readonly number[]): HostBatch;
}

/**
 * The training loop's view of in-memory windows.
 *
 * @example
 * ```ts
 * const source = memorySource(new TokenWindows(tokens, 128), { refLoss });
 * ```
 */
export function memorySource(windows: TokenWindows, options: MemorySourceOptions = {}): MemoryWindowSource {
  return {
    count: windows.count,
    read(ids): HostBatch {
      const batch: HostBatch = windows.batch(ids);
      if (options.refLoss !== undefined) batch.refLoss = windows.rows(options.refLoss, ids);
      if (options.ignore !== undefined) {
        const ignore = windows.rows(options.ignore, ids);
        for (let i = 0; i < ignore.length; i++) if (ignore[i] === 1) batch.targets[i] = -100;
      }
      return batch;
    },
  };
}

/** Per-position next-token losses of `model` on every window, `[count·T]`. */
export async function corpusLosses(
  model: LlamaModel,
  windows: TokenWindows,
  batchSize = 8,
): Promise<Float32Array> {
  const T = windows.seqLen;
  const losses = new Float32Array(windows.count * T);
  for (let first = 0; first < windows.count; first += batchSize) {
    const ids = Array.from({ length: Math.min(batchSize, windows.count - first) }, (_, i) => first + i);
    losses.set(await windowLosses(model, { windows: ids, ...windows.batch(ids) }, T), first * T);
  }
  return losses;
}
