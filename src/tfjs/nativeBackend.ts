// The part of tfjs-node's backend object (the native `tensorflow` backend of @tensorflow/tfjs-node
// and -gpu) that rho-slm calls directly, to run TensorFlow ops tfjs has no kernel for.
import * as tf from '@tensorflow/tfjs';

/** An op attribute as tfjs-node's binding takes it. */
export interface NativeAttribute {
  name: string;
  type: number;
  value: number | string | boolean | number[];
}

/** A native op's output as the binding describes it. */
export interface NativeTensorMetadata {
  id: number;
}

/** tfjs-node's record of one tfjs data id. */
export interface NativeTensorEntry {
  /** Host values not yet written to TensorFlow, or `null`. */
  values: unknown;
  /** The native tensor id (`-1`: none). */
  id: number;
  /** How many tfjs tensors share this data id. */
  refCount: number;
}

/** What rho-slm uses of tfjs-node's native binding. */
export interface NativeBinding {
  TF_ATTR_TYPE: number;
  TF_ATTR_STRING: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_SHAPE: number;
  TF_FLOAT: number;
  TF_INT32: number;
  /** Runs a TensorFlow op on native tensor ids; returns its outputs' metadata. */
  executeOp(
    name: string,
    attributes: NativeAttribute[],
    inputs: number[],
    outputs: number,
  ): NativeTensorMetadata[];
  createTensor(shape: number[], dtype: number, values: Float32Array | Int32Array): number;
  tensorDataSync(id: number): Float32Array;
  deleteTensor(id: number): void;
}

/** What rho-slm uses of tfjs-node's backend object. */
export interface NativeBackend {
  binding: NativeBinding;
  /** Whether TensorFlow runs ops on a GPU (`@tensorflow/tfjs-node-gpu` with a CUDA device). */
  isUsingGpuDevice: boolean;
  /** Native tensor ids of tfjs tensors held by this backend (writing pending values first). */
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  /** The tensors this backend holds, by data id. */
  tensorMap: { has(dataId: object): boolean; get(dataId: object): NativeTensorEntry | undefined };
  /** Registers a native op's output as a tfjs tensor. */
  createOutputTensor(metadata: NativeTensorMetadata): tf.Tensor;
  /** Runs a TensorFlow op on tfjs tensors; returns its one output as a tfjs tensor. */
  executeSingleOutput(name: string, attributes: NativeAttribute[], inputs: tf.Tensor[]): tf.Tensor;
}

/** The active backend as tfjs-node's backend object, or `undefined` when it is not `tensorflow`. */
export function activeNativeBackend(): NativeBackend | undefined {
  return tf.getBackend() === 'tensorflow' ? (tf.backend() as unknown as NativeBackend) : undefined;
}

/** The op attribute `name` naming a dtype of the binding (e.g. `binding.TF_FLOAT`). */
export function typeAttribute(backend: NativeBackend, name: string, dtype: number): NativeAttribute {
  return { name, type: backend.binding.TF_ATTR_TYPE, value: dtype };
}

/**
 * Hands `tensor`'s host values to TensorFlow now, on the `tensorflow` backend (elsewhere nothing):
 * tfjs-node keeps the values a tensor was made from in JavaScript until an op first reads it.
 * TensorFlow shares an array that is 64-byte aligned and copies one that is not (measured: about
 * half of the arrays up to a few MB are shared, none of 64 MB), so the array must never be written
 * again. For a copied array this releases it now, instead of holding a model's weights twice from
 * their first use until the garbage collector runs.
 *
 * @example
 * ```ts
 * const weight = tf.variable(tf.randomNormal([2048, 2048]));
 * writeToNative(weight);
 * ```
 */
export function writeToNative(tensor: tf.Tensor): void {
  activeNativeBackend()?.getInputTensorIds([tensor]);
}

/**
 * A tensor of `values` that stays correct when the caller overwrites `values` right after: on the
 * `tensorflow` backend, an array that starts 4 bytes past an 8-byte boundary (as `copiedPlacement`
 * places them) is handed to TensorFlow now, which copies what it cannot adopt, so no copy is made
 * in JavaScript; on other backends, and for any other array, the tensor gets a copy.
 *
 * @param values - values the caller will overwrite
 * @param shape - the tensor's shape
 */
export function transientTensor(values: Float32Array, shape: number[]): tf.Tensor {
  if (activeNativeBackend() === undefined || values.byteOffset % 8 !== 4)
    return tf.tensor(values.slice(), shape);
  const tensor = tf.tensor(values, shape);
  writeToNative(tensor);
  return tensor;
}

/**
 * Whether TensorFlow keeps the memory of freed tensors in a pool for its next ones, as its oneDNN
 * allocator does: the default of its x86-64 Linux build, unless `TF_ENABLE_ONEDNN_OPTS` turns
 * oneDNN off or `TF_ONEDNN_USE_SYSTEM_ALLOCATOR` (set by `rho-slm --low-memory`) turns the pool off.
 *
 * @param env - the process environment TensorFlow started with
 */
export function nativeAllocatorPools(env: Readonly<Record<string, string | undefined>>): boolean {
  const flag = (name: string) => env[name]?.trim().toLowerCase();
  const onednnOff = ['0', 'false'].includes(flag('TF_ENABLE_ONEDNN_OPTS') ?? '');
  const systemAllocator = ['1', 'true'].includes(flag('TF_ONEDNN_USE_SYSTEM_ALLOCATOR') ?? '');
  return process.platform === 'linux' && process.arch === 'x64' && !onednnOff && !systemAllocator;
}

/** Columns of the one zero tensor {@link reserveNativeMemory} makes (its rows stay below 2³¹). */
const RESERVE_COLUMNS = 2 ** 16;

/**
 * Has TensorFlow write `length` float32 zeros now, on its own threads, and free them into its pool,
 * where the tensors copied in next land: on the CPU of the `tensorflow` backend, where TensorFlow
 * pools ({@link nativeAllocatorPools}); elsewhere nothing. A model's weights copied one by one into
 * fresh memory take a page fault every 4 KiB on the calling thread, the larger part of the copy on
 * this machine's 2 cores (a TinyLlama-1.1B `create` with the ziggurat sampler, two alternated
 * pairs: 10.3 and 12.3 s without this, 9.0 and 8.5 s with it); here the faults are shared among
 * TensorFlow's threads, and the copies are plain copies. Only for tensors that TensorFlow copies
 * (not adopted arrays, see {@link adoptablePlacement}), or the memory is held twice.
 *
 * @param length - float32 values about to be copied to TensorFlow
 */
export function reserveNativeMemory(length: number): void {
  const backend = activeNativeBackend();
  if (length <= 0 || backend === undefined || backend.isUsingGpuDevice || !nativeAllocatorPools(process.env))
    return;
  tf.fill([Math.ceil(length / RESERVE_COLUMNS), RESERVE_COLUMNS], 0, 'float32').dispose();
}

/** glibc serves blocks of 32 MiB and more (its largest mmap threshold) from their own pages, 16 bytes in. */
const OWN_PAGES_BYTES = 32 * 2 ** 20;

/** Where a tensor's float32 values go in a new buffer: the buffer's size, and the values' byte offset in it. */
export interface Placement {
  bufferBytes: number;
  offsetBytes: number;
}

/**
 * A placement that TensorFlow can adopt without copying, where that can be arranged: on glibc a
 * block of 32 MiB or more starts 16 bytes into its own pages, so the values start 48 bytes into a
 * slightly larger buffer, 64-byte aligned. Small arrays are ordinary. Either way it is correct
 * (TensorFlow checks the address and copies an unaligned array); adopted, a model's weights are not
 * held twice while it loads, nor left in TensorFlow's pool. Once a tensor has the array, never
 * write it again (see {@link writeToNative}); a variable made of it is copied at its first update.
 *
 * @param length - number of float32 values
 */
export function adoptablePlacement(length: number): Placement {
  const bytes = length * 4;
  if (bytes + 64 < OWN_PAGES_BYTES) return { bufferBytes: bytes, offsetBytes: 0 };
  return { bufferBytes: bytes + 64, offsetBytes: 48 };
}

/**
 * A placement that TensorFlow always copies from (4 bytes past an 8-byte boundary, never aligned
 * as it needs to adopt; see {@link transientTensor}): for the weights of a model that will train,
 * which TensorFlow then updates in place in memory of its own.
 *
 * @param length - number of float32 values
 */
export function copiedPlacement(length: number): Placement {
  return { bufferBytes: 4 + length * 4, offsetBytes: 4 };
}

/** A zero-filled `Float32Array` of `length` values at `placement` in a new buffer. */
export function placedFloat32Array(length: number, placement: Placement): Float32Array {
  return new Float32Array(new ArrayBuffer(placement.bufferBytes), placement.offsetBytes, length);
}
