// Conversions between float32 and the 16-bit float formats checkpoints use.

/** Storage formats of checkpoint tensors this library reads. */
export type TensorDtype = 'F32' | 'F16' | 'BF16';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<TensorDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

/** Whether this machine stores numbers little-endian, as checkpoint files do (then typed arrays read them directly). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `bytes` as a typed array of `Type`: a view where aligned, else over an aligned copy. */
function aligned<T>(
  bytes: Uint8Array,
  size: number,
  Type: new (buffer: ArrayBuffer, offset: number, length: number) => T,
): T {
  const count = bytes.byteLength / size;
  if (bytes.byteOffset % size === 0) return new Type(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
  return new Type(bytes.slice().buffer as ArrayBuffer, 0, count);
}

/** float32 values from little-endian bytes of `dtype`. */
export function decodeFloats(bytes: Uint8Array, dtype: TensorDtype): Float32Array {
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN && dtype !== 'F16') {
    // Typed arrays read the file's order directly: one copy for F32, one shift per value for BF16.
    if (dtype === 'F32') out.set(aligned(bytes, 4, Float32Array));
    else {
      const halves = aligned(bytes, 2, Uint16Array);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
    }
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = halfToFloatBits(view.getUint16(i * 2, true));
  }
  return out;
}

/** Little-endian bytes of `values` as `dtype` (`'F32'` or `'BF16'`, rounded to nearest even). */
export function encodeFloats(values: Float32Array, dtype: 'F32' | 'BF16'): Uint8Array {
  if (dtype === 'F32') {
    if (LITTLE_ENDIAN) return new Uint8Array(values.slice().buffer);
    const out = new Uint8Array(values.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return out;
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  if (LITTLE_ENDIAN) {
    const halves = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) halves[i] = floatBitsToBfloat16(bits[i]!);
    return new Uint8Array(halves.buffer);
  }
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, floatBitsToBfloat16(bits[i]!), true);
  return out;
}

/** The bfloat16 nearest to a float32 given by its bits (ties to even; NaN stays NaN). */
export function floatBitsToBfloat16(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return (bits >>> 16) | 0x0040; // quiet NaN
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * The float32 bits of an IEEE 754 half-precision value given by its bits (exact: every half is a
 * float32; NaN payloads kept). Self-contained: its source also runs in worker threads.
 */
export function halfToFloatBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  let fraction = half & 0x03ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (fraction << 13)) >>> 0; // infinity or NaN
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (fraction << 13)) >>> 0;
  if (fraction === 0) return sign >>> 0; // ±0
  let biased = 113; // a subnormal, fraction · 2⁻²⁴: shift its leading bit up to the implicit one
  while ((fraction & 0x400) === 0) {
    fraction <<= 1;
    biased--;
  }
  return (sign | (biased << 23) | ((fraction & 0x3ff) << 13)) >>> 0;
}

/** One float32 seen as bits and as a number, for {@link halfToFloat}. */
const FLOAT_BITS = new Uint32Array(1);
const FLOAT_VALUE = new Float32Array(FLOAT_BITS.buffer);

/** IEEE 754 half precision bits to a number. */
export function halfToFloat(half: number): number {
  FLOAT_BITS[0] = halfToFloatBits(half);
  return FLOAT_VALUE[0]!;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return fraction > 0.5 ? floor + 1 : floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** IEEE 754 half-precision bits nearest to `value` (ties to even; overflow to ±Infinity; NaN kept). */
export function floatToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude < 2 ** -14) return sign | roundHalfEven(magnitude * 2 ** 24); // subnormal; 1024 carries into the smallest normal
  const bits = new Uint32Array(new Float32Array([magnitude]).buffer)[0]!;
  let exponent = ((bits >>> 23) & 0xff) - 127;
  let significand = roundHalfEven((magnitude / 2 ** exponent) * 1024); // in [1024, 2048]
  if (significand === 2048) {
    significand = 1024;
    exponent++;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | (significand - 1024);
}
