// CRC-32 that can be continued across chunks (Node: zlib) and combined from the CRCs of parts.
import { crc32 } from 'node:zlib';

/**
 * `zlib.crc32(bytes, running)`, except that empty input returns `running` unchanged: Node 20's
 * crc32 returns 0 for an empty view of a zero-length ArrayBuffer, whatever the running value.
 */
export function continueCrc32(bytes: Uint8Array, running: number): number {
  return bytes.byteLength === 0 ? running : crc32(bytes, running);
}

/** The CRC-32 polynomial, bit-reversed (zlib's). */
const POLYNOMIAL = 0xedb88320;

/** `a · b` modulo the CRC polynomial, both bit-reversed polynomials of degree < 32 (zlib's multmodp). */
function multiplyModPolynomial(a: number, b: number): number {
  let product = 0;
  let factor = b >>> 0;
  for (let bit = 0x80000000; bit !== 0; bit >>>= 1) {
    if ((a >>> 0) & bit) product ^= factor;
    factor = factor & 1 ? (factor >>> 1) ^ POLYNOMIAL : factor >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the CRC polynomial for k = 0 … 63. */
const POWERS_OF_X = (() => {
  const powers = [0x40000000]; // x¹
  for (let k = 1; k < 64; k++) powers.push(multiplyModPolynomial(powers[k - 1]!, powers[k - 1]!));
  return powers;
})();

/**
 * The CRC-32 of two byte strings one after the other, from their CRC-32s and the second's length
 * (zlib's `crc32_combine`): so parts hashed in any order, or in parallel, give the whole's CRC.
 *
 * @param first - CRC-32 of the first part
 * @param second - CRC-32 of the second part
 * @param secondLength - bytes in the second part (a safe integer ≥ 0)
 * @example
 * ```ts
 * combineCrc32(crc32(a), crc32(b), b.length) === crc32(Buffer.concat([a, b])); // true
 * ```
 */
export function combineCrc32(first: number, second: number, secondLength: number): number {
  let shift = 0x80000000; // x⁰
  let k = 3; // appending n bytes multiplies by x^(8n)
  for (let n = secondLength; n > 0; n = Math.floor(n / 2), k++)
    if (n % 2 === 1) shift = multiplyModPolynomial(POWERS_OF_X[k]!, shift);
  return (multiplyModPolynomial(shift, first) ^ second) >>> 0;
}
