// CRC-32 that can be continued across chunks (Node: zlib).
import { crc32 } from 'node:zlib';

/**
 * `zlib.crc32(bytes, running)`, except that empty input returns `running` unchanged: Node 20's
 * crc32 returns 0 for an empty view of a zero-length ArrayBuffer, whatever the running value.
 */
export function continueCrc32(bytes: Uint8Array, running: number): number {
  return bytes.byteLength === 0 ? running : crc32(bytes, running);
}
