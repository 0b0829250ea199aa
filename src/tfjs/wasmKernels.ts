// Kernels that tfjs-backend-wasm 4.x lacks but the gradients of ordinary tf.layers models call,
// computed on the wasm heap in place, registered once where wasm has none of its own; and an
// Identity that shares its input's memory instead of copying it.
import * as tf from '@tensorflow/tfjs';
import { elementCount } from '../core/shape.js';
import type { WasmHeapAccess } from '../heap/wasmHeap.js';

/** What a kernel here reads of the wasm backend: its heap. */
type WasmBackend = WasmHeapAccess & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
};

/** The arguments tfjs passes to a kernel function. */
interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/**
 * `UnsortedSegmentSum` (the gradient of `tf.gather`, so of `tf.layers.embedding`):
 * `out[s, …] = Σ_{i : segmentIds[i] = s} x[i, …]`, ids outside `[0, numSegments)` dropped.
 * Shapes: `x` `[...S, ...R]`, `segmentIds` `[...S]` int32 → `[numSegments, ...R]`. Sums in doubles.
 */
function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const x = inputs.x!;
  const segmentIds = inputs.segmentIds!;
  const numSegments = attrs!.numSegments as number;
  const rest = x.shape.slice(segmentIds.shape.length);
  const inner = elementCount(rest);
  const out = wasm.makeOutput([numSegments, ...rest], x.dtype);
  const ids = wasm.typedArrayFromHeap(segmentIds); // after makeOutput: a growing heap detaches views
  const values = wasm.typedArrayFromHeap(x);
  const sums = new Float64Array(numSegments * inner);
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * inner;
    const to = segment * inner;
    for (let j = 0; j < inner; j++) sums[to + j]! += values[from + j]!;
  }
  wasm.typedArrayFromHeap(out).set(sums);
  return out;
}

/** Strides of a 4-D tensor `[B, H, W, C]` (channels last) or `[B, C, H, W]`, in `(b, h, w, c)` order. */
function strides4d(height: number, width: number, channels: number, channelsLast: boolean): number[] {
  return channelsLast
    ? [height * width * channels, width * channels, channels, 1]
    : [channels * height * width, width, 1, height * width];
}

/**
 * `Conv2DBackpropFilter` (the weight gradient of `tf.conv2d`, so of `tf.layers.conv1d`/`conv2d`):
 * `dW[r, c, i, o] = Σ_{b, y, x} input[b, y·sh + r − top, x·sw + c − left, i] · dy[b, y, x, o]`.
 * Shapes: `x` `[B, H, W, C]`, `dy` `[B, outH, outW, O]` (or channels first) → `filterShape`
 * `[fh, fw, C, O]`. Sums in doubles.
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const x = inputs.x!;
  const dy = inputs.dy!;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const channelsLast = info.dataFormat === 'channelsLast';
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const [xB, xH, xW, xC] = strides4d(inHeight, inWidth, inChannels, channelsLast) as [
    number,
    number,
    number,
    number,
  ];
  const [gB, gH, gW, gC] = strides4d(outHeight, outWidth, outChannels, channelsLast) as [
    number,
    number,
    number,
    number,
  ];
  const out = wasm.makeOutput(info.filterShape, 'float32');
  const input = wasm.typedArrayFromHeap(x); // after makeOutput: a growing heap detaches views
  const grad = wasm.typedArrayFromHeap(dy);
  const sums = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < info.batchSize; b++) {
    for (let y = 0; y < outHeight; y++) {
      for (let r = 0; r < filterHeight; r++) {
        const row = y * strideHeight + r - info.padInfo.top;
        if (row < 0 || row >= inHeight) continue;
        for (let col = 0; col < outWidth; col++) {
          const dyAt = b * gB + y * gH + col * gW;
          for (let c = 0; c < filterWidth; c++) {
            const column = col * strideWidth + c - info.padInfo.left;
            if (column < 0 || column >= inWidth) continue;
            const xAt = b * xB + row * xH + column * xW;
            const filterAt = (r * filterWidth + c) * inChannels * outChannels;
            for (let i = 0; i < inChannels; i++) {
              const value = input[xAt + i * xC]!;
              const to = filterAt + i * outChannels;
              for (let o = 0; o < outChannels; o++) sums[to + o]! += value * grad[dyAt + o * gC]!;
            }
          }
        }
      }
    }
  }
  wasm.typedArrayFromHeap(out).set(sums);
  return out;
}

/**
 * `Identity` as a second reference to the same heap data, as the cpu and tensorflow backends do it
 * (wasm's own kernel copies). tfjs clones every tensor a gradient saves through Identity, so the
 * copying kernel doubled the memory of everything saved for backward (activations and weights):
 * a 56 M-parameter model at batch 4 ran out of the 4 GiB wasm heap in its second step.
 */
function sharedIdentity({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  (backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** The kernels this module adds to wasm, by tfjs kernel name. */
const WASM_KERNELS: Record<string, (args: KernelArgs) => tf.TensorInfo> = {
  UnsortedSegmentSum: unsortedSegmentSum,
  Conv2DBackpropFilter: conv2DBackpropFilter,
};

let registered = false;

/**
 * Registers, for the `wasm` backend, the kernels that the gradients of common `tf.layers` models
 * need and tfjs-backend-wasm 4.x lacks (`UnsortedSegmentSum`, the gradient of `tf.gather` and so
 * of `tf.layers.embedding`; `Conv2DBackpropFilter`, the weight gradient of `tf.layers.conv1d` and
 * `conv2d`), skipping any that wasm already has; and replaces wasm's copying `Identity` with one
 * that shares memory (halving what a backward pass keeps alive). Idempotent; {@link useBackend} and
 * {@link createTrainStep} call it, so call it yourself only when you train on wasm without them.
 *
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * registerWasmKernels();
 * const { grads } = tf.variableGrads(() => tf.sum(model.apply(ids) as tf.Tensor) as tf.Scalar);
 * ```
 */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of Object.entries(WASM_KERNELS)) {
    if (tf.getKernel(kernelName, 'wasm') !== undefined) continue;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
  }
  if (tf.getKernel('Identity', 'wasm') !== undefined) tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: sharedIdentity as tf.KernelFunc,
  });
}
