// Fast seeded normal samples: Marsaglia and Tsang's ziggurat (256 layers) in four lanes. Each lane
// has two xoshiro128** streams: its round stream gives one word a round, and a word inside its
// layer's rectangle (98.5 % of words) is a sample at once; the others finish in scalar code with
// words of the lane's second stream (the wedge, the tail, and fresh words after a rejection). The
// rounds themselves then never wait on that scalar code, so they run four lanes at a time in
// WebAssembly SIMD (kernels/zigguratWasm.ts, assembled by scripts/build-wasm.mjs) where the runtime
// has it, and the few lanes outside are redone afterwards in order: the same numbers with SIMD and
// without. Several times faster per sample than the tf.randomNormal-exact sampler
// (normalInit.ts), whose Math.log per pair dominates; different numbers for the same seed, the
// same distribution. LlamaModel.create uses it when asked (`sampler: 'ziggurat'`). Every function
// here but zigguratSimd is self-contained (no outside names, no named inner functions): their
// sources also run in worker threads (normalStreams.ts).
import { ZIGGURAT_WASM } from './kernels/zigguratWasm.js';

/** The ziggurat's layers: rectangle bounds `kn` (of a 32-bit word), widths `wn`, densities `fn`. */
export interface ZigguratTables {
  kn: Float64Array;
  wn: Float64Array;
  fn: Float64Array;
}

/** An exported WebAssembly global: a byte offset in memory, or a count. */
interface WasmGlobal {
  value: number;
}

/** The SIMD module's exports (scripts/build-wasm.mjs writes it). */
export interface ZigguratSimd {
  memory: { buffer: ArrayBuffer };
  /** Where the layers' integer bounds ⌈kn⌉ (256 u32) and widths wn (256 f64) go. */
  kn: WasmGlobal;
  wn: WasmGlobal;
  /** The lanes' round-stream states (16 i32: state word k of lane j at 4k + j). */
  state: WasmGlobal;
  /** The rounds' samples (4 float32 a round) and the listed rounds (8 i32 each: round, 3 unused, 4 words). */
  out: WasmGlobal;
  list: WasmGlobal;
  /** The most rounds one call takes. */
  chunk: WasmGlobal;
  /** `rounds` rounds into memory; returns how many rounds it listed for scalar code. */
  rounds(rounds: number, stdDev: number): number;
}

/**
 * The 256 layers of Marsaglia and Tsang's (2000) ziggurat for the normal density (their r and v
 * for 256), rather than the 128 of their published code: a word then falls outside its layer's
 * rectangle, and so to scalar code, 1.5 % of the time instead of 2.8 %, which halves that code's
 * share of the time.
 */
export function zigguratTables(): ZigguratTables {
  const layers = 256;
  const kn = new Float64Array(layers);
  const wn = new Float64Array(layers);
  const fn = new Float64Array(layers);
  const m1 = 2147483648;
  let dn = 3.6541528853610088; // r, where the tail begins
  let tn = dn;
  const vn = 4.92867323399e-3; // each layer's area
  const q = vn / Math.exp(-0.5 * dn * dn);
  kn[0] = (dn / q) * m1;
  kn[1] = 0;
  wn[0] = q / m1;
  wn[layers - 1] = dn / m1;
  fn[0] = 1;
  fn[layers - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = layers - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = (dn / tn) * m1;
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / m1;
  }
  return { kn, wn, fn };
}

/**
 * The next 32-bit word (signed) of lane `lane`'s xoshiro128** stream in `state`, whose state words
 * a, b, c, d are `state[lane]`, `state[4 + lane]`, `state[8 + lane]`, `state[12 + lane]` (as the
 * SIMD module keeps them, one vector each).
 */
export function nextWord(state: Int32Array, lane: number): number {
  const a = state[lane]!;
  const b = state[4 + lane]!;
  const s = Math.imul(b, 5);
  const word = Math.imul((s << 7) | (s >>> 25), 9);
  const c = state[8 + lane]! ^ a;
  const d = state[12 + lane]! ^ b;
  state[4 + lane] = b ^ c;
  state[lane] = a ^ d;
  state[8 + lane] = c ^ (b << 9);
  state[12 + lane] = (d << 11) | (d >>> 21);
  return word;
}

/**
 * One sample of N(0, stdDev²) for lane `lane` from its round word `word`: at once when the word is
 * inside its layer's rectangle; otherwise the wedge or the tail decides with words of the lane's
 * second stream (`extra`), and a rejected word is followed by a fresh one from that stream.
 */
export function laneSample(
  extra: Int32Array,
  lane: number,
  word: number,
  stdDev: number,
  { kn, wn, fn }: ZigguratTables,
): number {
  const r = 3.6541528853610088; // where the tail begins (zigguratTables)
  for (let candidate = word; ; candidate = nextWord(extra, lane)) {
    const layer = candidate & 255;
    if (Math.abs(candidate) < kn[layer]!) return stdDev * (candidate * wn[layer]!);
    const x = candidate * wn[layer]!;
    if (layer === 0) {
      // The tail beyond r (Marsaglia 1964); a rejected pair is followed by a new pair for the same
      // tail (starting over would make the tails too light).
      for (;;) {
        const tail = -Math.log(((nextWord(extra, lane) >>> 0) + 0.5) * 2.3283064365386963e-10) / r;
        const uniform = ((nextWord(extra, lane) >>> 0) + 0.5) * 2.3283064365386963e-10;
        if (-2 * Math.log(uniform) >= tail * tail) return stdDev * (x > 0 ? r + tail : -r - tail);
      }
    }
    // The wedge: accept x with the density's excess over the layer's rectangle.
    const uniform = ((nextWord(extra, lane) >>> 0) + 0.5) * 2.3283064365386963e-10;
    if (fn[layer]! + uniform * (fn[layer - 1]! - fn[layer]!) < Math.exp(-0.5 * x * x)) return stdDev * x;
  }
}

/**
 * The SIMD module instantiated from `base64` with `tables` in its memory, or `null` where the
 * runtime has no WebAssembly SIMD.
 */
export function instantiateZigguratSimd(base64: string, tables: ZigguratTables): ZigguratSimd | null {
  try {
    const wasm = (
      globalThis as unknown as {
        WebAssembly: {
          Instance: new (m: object) => { exports: unknown };
          Module: new (b: Uint8Array) => object;
        };
      }
    ).WebAssembly;
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    const simd = new wasm.Instance(new wasm.Module(bytes)).exports as ZigguratSimd;
    // Bounds as integers: |w| < kn ⟺ |w| < ⌈kn⌉ for an integer |w|, compared unsigned.
    const memory = simd.memory.buffer;
    new Uint32Array(memory, simd.kn.value, tables.kn.length).set(
      Array.from(tables.kn, (bound) => Math.ceil(bound)),
    );
    new Float64Array(memory, simd.wn.value, tables.wn.length).set(tables.wn);
    return simd;
  } catch {
    return null;
  }
}

/**
 * Fills `out` with samples of N(0, stdDev²) rounded to float32, from the stream `seed` and `piece`
 * name: the same numbers with `simd` (from {@link zigguratSimd} or {@link instantiateZigguratSimd})
 * and without. A large tensor is drawn in pieces, each its own stream (`piece` 0, 1, …), so that
 * threads can draw its pieces at once.
 *
 * @param out - the array to fill
 * @param stdDev - standard deviation
 * @param seed - any integer; each names a different stream
 * @param simd - the SIMD module, or `null` for scalar code only
 * @param piece - a non-negative integer (default 0); with `seed`, names the stream: each pair a different one
 * @example
 * ```ts
 * const values = new Float32Array(4096);
 * fillZiggurat(values, 0.02, 7, zigguratSimd());
 * ```
 */
export function fillZiggurat(
  out: Float32Array,
  stdDev: number,
  seed: number,
  simd: ZigguratSimd | null,
  piece = 0,
): void {
  const tables = zigguratTables();
  // Eight xoshiro128** states from splitmix32 of the seed, each input word xor the piece's salt
  // before the mixing (a bijection), so that another piece changes every word (none all zero):
  // the lanes' round streams, then their second streams.
  const streams = new Int32Array(32);
  const salt = Math.imul(piece, 0x2c1b3c6d);
  let mixed = seed | 0;
  for (let word = 0; word < 32; word++) {
    mixed = (mixed + 0x9e3779b9) | 0;
    let z = mixed ^ salt;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    // stream word >> 2 (lane (word >> 2) & 3 of set word >> 4), state word word & 3
    streams[(word >> 4) * 16 + (word & 3) * 4 + ((word >> 2) & 3)] = z ^ (z >>> 16);
  }
  for (let lane = 0; lane < 8; lane++) {
    const at = (lane >> 2) * 16 + (lane & 3);
    if ((streams[at]! | streams[at + 4]! | streams[at + 8]! | streams[at + 12]!) === 0) streams[at] = 1;
  }
  const extra = streams.subarray(16);
  let state = streams.subarray(0, 16);
  const n = out.length;
  let i = 0;
  if (simd !== null) {
    const memory = simd.memory.buffer;
    const chunk = simd.chunk.value;
    state = new Int32Array(memory, simd.state.value, 16);
    state.set(streams.subarray(0, 16));
    const results = new Float32Array(memory, simd.out.value, 4 * chunk);
    const listed = new Int32Array(memory, simd.list.value, 8 * chunk);
    while (n - i >= 4) {
      const rounds = Math.min(chunk, Math.floor((n - i) / 4));
      const count = simd.rounds(rounds, stdDev);
      out.set(results.subarray(0, 4 * rounds), i);
      // A listed round's lanes outside their rectangles again, in order (the SIMD value stands for
      // lanes inside, which laneSample would give too).
      for (let k = 0; k < count; k++) {
        const at = i + 4 * listed[8 * k]!;
        for (let lane = 0; lane < 4; lane++) {
          const word = listed[8 * k + 4 + lane]!;
          if (Math.abs(word) >= tables.kn[word & 255]!)
            out[at + lane] = laneSample(extra, lane, word, stdDev, tables);
        }
      }
      i += 4 * rounds;
    }
  }
  // Scalar rounds (all of them without SIMD; the last, partial one with it).
  while (i < n) {
    const words = [nextWord(state, 0), nextWord(state, 1), nextWord(state, 2), nextWord(state, 3)];
    for (let lane = 0; lane < 4 && i < n; lane++)
      out[i++] = laneSample(extra, lane, words[lane]!, stdDev, tables);
  }
}

let compiled: ZigguratSimd | null | undefined;

/** This thread's SIMD module for {@link fillZiggurat} (made once), or `null` without WebAssembly SIMD. */
export function zigguratSimd(): ZigguratSimd | null {
  if (compiled === undefined) compiled = instantiateZigguratSimd(ZIGGURAT_WASM, zigguratTables());
  return compiled;
}
