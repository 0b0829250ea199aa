// Row kernels in WebAssembly SIMD (rowKernels.wat) for float32 logits with float32 results: the
// exp of four lanes at once, sums in f64. Rows are copied into the module's memory one at a time.
import { ROW_KERNELS_WASM } from './kernels/rowKernelsWasm.js';

/** The part of the WebAssembly API this module uses (typed here: the core's lib has no DOM types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface RowKernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  rowMax(pointer: number, count: number): number;
  rowSumExp(pointer: number, count: number, max: number): number;
  rowSoftmax(input: number, output: number, count: number, logSumExp: number, weight: number): void;
}

let compiled: RowKernelExports | null | undefined;

function kernels(): RowKernelExports | null {
  if (compiled === undefined) {
    try {
      const bytes = Uint8Array.from(atob(ROW_KERNELS_WASM), (c) => c.charCodeAt(0));
      const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
      if (wasm === undefined) throw new Error('no WebAssembly');
      compiled = new wasm.Instance(new wasm.Module(bytes)).exports as RowKernelExports;
    } catch {
      compiled = null; // no WebAssembly SIMD here: callers keep the JavaScript path
    }
  }
  return compiled;
}

/** SIMD row operations for rows of `vocab` float32 logits. */
export interface SimdRows {
  /** `(max − labelLogit) + log Σ exp(x − max)` of the row at `offset`; NaN for NaN or +Infinity logits. */
  loss(logits: Float32Array, offset: number, labelLogit: number): number;
  /** `out[offset + j] = weight · exp(x_j − logSumExp)` over the row at `offset`. */
  softmaxInto(
    logits: Float32Array,
    offset: number,
    logSumExp: number,
    weight: number,
    out: Float32Array,
  ): void;
}

/** SIMD row kernels for rows of `vocab` entries, or `null` where WebAssembly SIMD is unavailable. */
export function simdRows(vocab: number): SimdRows | null {
  const module = kernels();
  if (module === null) return null;
  const rowBytes = Math.ceil((vocab * 4) / 16) * 16;
  const neededPages = Math.ceil((2 * rowBytes) / 65536);
  const pages = module.memory.buffer.byteLength / 65536;
  if (pages < neededPages) module.memory.grow(neededPages - pages);
  const memory = new Float32Array(module.memory.buffer);
  const outputStart = rowBytes / 4;
  return {
    loss(logits, offset, labelLogit) {
      memory.set(logits.subarray(offset, offset + vocab), 0);
      const max = module.rowMax(0, vocab);
      return max - labelLogit + Math.log(module.rowSumExp(0, vocab, max));
    },
    softmaxInto(logits, offset, logSumExp, weight, out) {
      memory.set(logits.subarray(offset, offset + vocab), 0);
      module.rowSoftmax(0, rowBytes, vocab, logSumExp, weight);
      out.set(memory.subarray(outputStart, outputStart + vocab), offset);
    },
  };
}
