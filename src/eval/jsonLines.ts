// Per-item result files: one JSON object per line, written atomically.
import { writeAll, writeFileAtomic } from '../io/atomicFile.js';

/** Writes `items` to `path` as JSON lines; readers see the old file or the whole new one. */
export async function writeJsonLines(path: string, items: readonly object[]): Promise<void> {
  const bytes = new TextEncoder().encode(items.map((item) => `${JSON.stringify(item)}\n`).join(''));
  await writeFileAtomic(path, (handle) => writeAll(handle, bytes, 0));
}
