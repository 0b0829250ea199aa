// Training windows: the corpus cut into consecutive windows of T + 1 tokens (inputs T, targets T,
// overlapping by one token), and a seeded shuffle of them into batches.
import { createRandom } from '../core/random.js';
import type { TokenFile } from './tokenFile.js';

/**
 * Windows of `seqLen + 1` tokens in a corpus of `tokenCount`: window w covers tokens
 * `[w·T, w·T + T]`, so there are `floor((tokenCount − 1) / T)`.
 *
 * @example
 * ```ts
 * windowCount(1025, 128); // 8
 * ```
 */
export function windowCount(tokenCount: number, seqLen: number): number {
  return Math.max(0, Math.floor((tokenCount - 1) / seqLen));
}

/** A batch of windows: inputs and targets `[B·T]` int32, row-major. */
export interface WindowBatch {
  /** Window indices, `[B]`. */
  windows: number[];
  /** Input ids `[B·T]`. */
  inputs: Int32Array;
  /** Target ids `[B·T]` (the next token of each input). */
  targets: Int32Array;
}

/** Reads windows `windows` of length `seqLen` from a token file. */
export async function readWindows(
  file: TokenFile,
  windows: readonly number[],
  seqLen: number,
): Promise<WindowBatch> {
  const inputs = new Int32Array(windows.length * seqLen);
  const targets = new Int32Array(windows.length * seqLen);
  for (const [row, window] of windows.entries()) {
    const tokens = await file.read(window * seqLen, seqLen + 1);
    inputs.set(tokens.subarray(0, seqLen), row * seqLen);
    targets.set(tokens.subarray(1, seqLen + 1), row * seqLen);
  }
  return { windows: [...windows], inputs, targets };
}

/**
 * The window order of one epoch: a seeded Fisher–Yates shuffle of `0 … count − 1`, the same for
 * the same `seed` and `epoch` on every machine (so a resumed run sees the same batches).
 *
 * @example
 * ```ts
 * const order = windowOrder(100, 7, 0);
 * ```
 */
export function windowOrder(count: number, seed: number, epoch: number): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  const random = createRandom(seed * 1_000_003 + epoch);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const held = order[i]!;
    order[i] = order[j]!;
    order[j] = held;
  }
  return order;
}

/**
 * The window at each position of the endless sequence of epochs, epoch `e` in `windowOrder(count,
 * seed, e)`: position `i` is window `order_{⌊i/count⌋}[i mod count]`. A resumed run that asks for
 * the same positions gets the same windows.
 *
 * @example
 * ```ts
 * const windowAt = windowSampler(100, 7);
 * const batch = [0, 1, 2, 3].map((row) => windowAt(step * 4 + row));
 * ```
 */
export function windowSampler(count: number, seed: number): (position: number) => number {
  const orders = new Map<number, Uint32Array>();
  return (position) => {
    const epoch = Math.floor(position / count);
    let order = orders.get(epoch);
    if (order === undefined) {
      order = windowOrder(count, seed, epoch);
      orders.set(epoch, order);
    }
    return order[position % count]!;
  };
}
