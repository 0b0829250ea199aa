// Atomic file writes: write a temporary file beside the target, flush it to disk, rename over.
import { type FileHandle, open, rename, rm } from 'node:fs/promises';

/** Writes all of `bytes` at `position` (positional writes may be partial). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(
      bytes,
      written,
      bytes.byteLength - written,
      position + written,
    );
    written += bytesWritten;
  }
}

/**
 * Creates `path` atomically: `write` fills a temporary file beside it, which is flushed to disk and
 * renamed over `path`. Readers see the old file or the whole new one, never a part, even if the
 * process is killed; on failure the temporary file is removed.
 */
export async function writeFileAtomic(
  path: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${Date.now()}`;
  const handle = await open(temporary, 'w');
  try {
    await write(handle);
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}
