// Whole-file reads with a size limit checked before anything is allocated, and JSON files read
// that way: a corrupt or wrong file fails with its name instead of exhausting memory.
import { open } from 'node:fs/promises';
import { SLMError, type SLMErrorCode } from '../core/errors.js';

/**
 * The bytes of `path`, after checking that it is a regular file of at most `maxBytes`.
 *
 * @param path - the file
 * @param maxBytes - the largest size accepted
 * @param code - the error code for a file that is too large or not a file
 * @throws {@link SLMError} `code` naming the file and its size
 */
export async function readFileBounded(path: string, maxBytes: number, code: SLMErrorCode): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new SLMError(code, `${path} is not a regular file.`);
    if (info.size > maxBytes)
      throw new SLMError(
        code,
        `${path} is ${info.size} bytes; expected at most ${maxBytes} for this kind of file.`,
      );
    const bytes = Buffer.alloc(info.size);
    const { bytesRead } = await handle.read(bytes, 0, info.size, 0);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * A JSON file of at most `maxBytes`, parsed.
 *
 * @param path - the file
 * @param maxBytes - the largest size accepted
 * @param code - the error code for a file that is too large, not a file, or not JSON
 * @throws {@link SLMError} `code` naming the file
 */
export async function readJsonBounded(path: string, maxBytes: number, code: SLMErrorCode): Promise<unknown> {
  const bytes = await readFileBounded(path, maxBytes, code);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new SLMError(code, `${path} is not valid JSON.`);
  }
}
