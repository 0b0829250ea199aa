// A wasm-safe, fast op layer for training: every matrix product in forward and backward is a plain
// 2-D matMul (the wasm backend runs transposed and batched forms 10× slower), and the embedding's
// gradient is a scatterND (gather's gradient needs UnsortedSegmentSum, which tfjs-backend-wasm lacks
// and tfjs/wasmKernels.ts adds only when registered).
import * as tf from '@tensorflow/tfjs';
import { unstackFast, wasmHeap } from '../heap/wasmHeap.js';
import { customGradient } from '../tfjs/customGradient.js';
import { activeNativeBackend } from '../tfjs/nativeBackend.js';

/** Upstream gradients of at least this many elements are checked for all-zero rows. */
const ROW_CHECK_MIN_ELEMENTS = 2 ** 22;

/**
 * The rows of `dy` `[N, out]` that hold a nonzero (or NaN), when at most 3/4 of them do: under SLM
 * the output layer's gradient is zero on every unselected token. Only on `tensorflow`, where the
 * host read is free (the backend is synchronous), and only for large gradients (two reductions).
 */
function liveRows(dy: tf.Tensor2D): Int32Array | undefined {
  if (activeNativeBackend() === undefined || dy.size < ROW_CHECK_MIN_ELEMENTS) return undefined;
  const [high, low] = tf.tidy(() => [tf.max(dy, 1), tf.min(dy, 1)]);
  const highest = high.dataSync();
  const lowest = low.dataSync();
  tf.dispose([high, low]);
  const rows: number[] = [];
  for (let row = 0; row < highest.length; row++) if (highest[row] !== 0 || lowest[row] !== 0) rows.push(row);
  return rows.length <= 0.75 * highest.length ? Int32Array.from(rows) : undefined;
}

/**
 * `x @ weight` with the gradient `dx = dy @ weightᵀ`, `dweight = xᵀ @ dy`: on wasm from explicit
 * transposes and plain 2-D matMuls, elsewhere through matMul's transpose flags (native BLAS reads
 * the transposed operand in place; an explicit transpose would copy it). On `tensorflow` a large
 * `dy` with at least a quarter of its rows zero (the output layer under SLM) takes both products
 * over its nonzero rows only.
 * Shapes: `x` `[N, in]`, `weight` `[in, out]` (the transpose of Hugging Face's `[out, in]`), result `[N, out]`.
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  const product = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, matrix, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([input, matrix]);
    return {
      value: tf.matMul(input, matrix),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedInput, savedMatrix] = saved as [tf.Tensor2D, tf.Tensor2D];
        const upstream = dy as tf.Tensor2D; // [N, out]
        const live = liveRows(upstream);
        if (live !== undefined) {
          const rows = tf.tensor1d(live, 'int32'); // [S]
          const compact = tf.gather(upstream, rows); // [S, out]
          return [
            tf.scatterND(
              tf.expandDims(rows, 1),
              tf.matMul(compact, savedMatrix, false, true),
              savedInput.shape,
            ),
            tf.matMul(tf.gather(savedInput, rows), compact, true, false), // [in, out]
          ];
        }
        if (wasmHeap() === undefined)
          return [
            tf.matMul(upstream, savedMatrix, false, true),
            tf.matMul(savedInput, upstream, true, false),
          ];
        return [
          tf.matMul(upstream, tf.transpose(savedMatrix)), // [N, in]
          tf.matMul(tf.transpose(savedInput), upstream), // [in, out]
        ];
      },
    };
  });
  return product(x, weight) as tf.Tensor2D;
}

/**
 * Rows of `table` for `ids`, differentiable with respect to `table` through `scatterND` (which sums
 * repeated ids), so it trains on the wasm backend.
 * Shapes: `ids` `[N]` int32, `table` `[V, D]`, result `[N, D]`.
 */
export function embedding(ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D {
  const lookup = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [matrix, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([ids]);
    return {
      value: tf.gather(matrix, ids),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.scatterND(tf.expandDims(saved[0]!, 1), dy as tf.Tensor2D, matrix.shape),
    };
  });
  return lookup(table) as tf.Tensor2D;
}

/**
 * Per-group products `op(a[g]) @ op(b[g])`, `op` transposing the last two axes where asked. Not
 * differentiable (for use inside custom gradients). On wasm as separate plain 2-D matMuls with
 * explicit transposes (the backend runs batched and transposed matMul at about 2 GFLOP/s and plain
 * 2-D at about 25, measured), elsewhere one `tf.matMul` that reads transposed operands in place.
 * Shapes: `a` `[n, p, q]` (`[n, q, p]` transposed), `b` `[n, q, r]` (`[n, r, q]` transposed), result `[n, p, r]`.
 */
export function batchedMatMul(
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  transposeA = false,
  transposeB = false,
): tf.Tensor3D {
  if (wasmHeap() === undefined) return tf.matMul(a, b, transposeA, transposeB);
  return tf.tidy(() => {
    const lefts = unstackFast(a) as tf.Tensor2D[];
    const rights = unstackFast(b) as tf.Tensor2D[];
    return tf.stack(
      lefts.map((left, g) =>
        tf.matMul(transposeA ? tf.transpose(left) : left, transposeB ? tf.transpose(rights[g]!) : rights[g]!),
      ),
    ) as tf.Tensor3D;
  });
}
