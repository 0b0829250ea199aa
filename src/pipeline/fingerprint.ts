// A short identity for a model's weights, recorded in score files.
import { crc32 } from 'node:zlib';
import type { LlamaModel } from '../model/llama.js';
import { parameterTable } from '../model/parameterTable.js';

/**
 * `llama-<parameters>-<CRC-32 of every weight>`: equal for equal weights, ≤ 32 characters. The
 * CRC-32 is of the weights' float32 bytes in Hugging Face layout, in parameter-table order.
 */
export async function modelFingerprint(model: LlamaModel): Promise<string> {
  let checksum = 0;
  for (const { name } of parameterTable(model.config)) {
    const data = await model.exportWeight(name);
    checksum = crc32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), checksum);
  }
  return fingerprintOf(model.parameterCount(), checksum);
}

/** The {@link modelFingerprint} of a model of `parameters` parameters whose weights' CRC-32 is `weightsCrc`. */
export function fingerprintOf(parameters: number, weightsCrc: number): string {
  return `llama-${parameters}-${weightsCrc.toString(16).padStart(8, '0')}`;
}
