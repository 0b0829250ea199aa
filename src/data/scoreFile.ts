// Reference-score files: one loss per target position of every window, float16 or float32, with a
// checked header naming the token file and model they belong to. A part covers a contiguous range
// of windows (one shard); parts merge into one file. Writing goes to `<path>.partial` and resumes
// from there after a crash; `close()` renames it into place.
import { type FileHandle, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { SLMError } from '../core/errors.js';
import { writeAll } from '../io/atomicFile.js';
import { continueCrc32 } from '../io/checksum.js';
import { floatToHalf, halfToFloat } from '../io/dtypes.js';
import { type BinaryFormat, decodeHeader, encodeHeader, headerSize, openWithHeader } from './binaryHeader.js';
import { windowCount } from './windows.js';

/** Longest window a score file may record (far above any model's context). */
const MAX_SEQ_LEN = 2 ** 24;
const FORMAT: BinaryFormat = {
  magic: 'RHOSLMSC',
  version: 1,
  fields: [
    ['bytesPerScore', 'u32'],
    ['seqLen', 'u32'],
    ['windowCount', 'u64'],
    ['firstWindow', 'u64'],
    ['partWindows', 'u64'],
    ['tokenFileCrc', 'u32'],
    ['tokenCount', 'u64'],
    ['model', 'ascii32'],
    ['payloadCrc', 'u32'],
  ],
  kind: 'a score file (written by rho-slm score)',
  check: ({ bytesPerScore, seqLen, windowCount: windows, firstWindow, partWindows, tokenCount }) => {
    if (bytesPerScore !== 2 && bytesPerScore !== 4)
      return `stores ${bytesPerScore} bytes per score, expected 2 or 4`;
    if (!((seqLen as number) >= 1 && (seqLen as number) <= MAX_SEQ_LEN))
      return `has window length ${seqLen}, expected 1 … ${MAX_SEQ_LEN}`;
    if (windows !== windowCount(tokenCount as number, seqLen as number))
      return `counts ${windows} windows of ${seqLen} in ${tokenCount} tokens`;
    if ((firstWindow as number) + (partWindows as number) > (windows as number))
      return `covers windows ${firstWindow} + ${partWindows} of ${windows}`;
    return undefined;
  },
};
const HEADER_SIZE = headerSize(FORMAT.fields);
/** Bytes read at a time when verifying. */
const VERIFY_CHUNK_BYTES = 1 << 20;

/** What a score file's header records. */
export interface ScoreFileInfo {
  /** 2 (float16) or 4 (float32). */
  bytesPerScore: 2 | 4;
  /** Window length `T` (targets per window). */
  seqLen: number;
  /** Windows in the whole corpus. */
  windowCount: number;
  /** First window of this part. */
  firstWindow: number;
  /** Windows in this part (the whole corpus for a merged file). */
  partWindows: number;
  /** Payload CRC-32 of the token file scored. */
  tokenFileCrc: number;
  /** Tokens in the token file scored. */
  tokenCount: number;
  /** Fingerprint of the reference model (≤ 32 ASCII characters). */
  model: string;
  /** CRC-32 of the scores (0 while a part is being written). */
  payloadCrc: number;
}

/** The fields that say which corpus, window length and model scores belong to. */
export type ScoreFilePlan = Omit<ScoreFileInfo, 'payloadCrc'>;

function encodeScores(scores: ArrayLike<number>, bytesPerScore: 2 | 4): Buffer {
  const bytes = Buffer.alloc(scores.length * bytesPerScore);
  for (let i = 0; i < scores.length; i++) {
    if (bytesPerScore === 2) bytes.writeUInt16LE(floatToHalf(scores[i]!), i * 2);
    else bytes.writeFloatLE(scores[i]!, i * 4);
  }
  return bytes;
}

/**
 * Writes the scores of a part window by window into `<path>.partial`. `ScoreFileWriter.open`
 * resumes an interrupted part: it keeps every complete window already written (or as many as
 * `alignTo` allows), so a resumed run ends byte-identical to an uninterrupted one.
 */
export class ScoreFileWriter {
  /** The plan this part follows. */
  readonly plan: ScoreFilePlan;
  readonly #path: string;
  readonly #handle: FileHandle;
  #written: number;
  #checksum: number;

  private constructor(
    path: string,
    plan: ScoreFilePlan,
    handle: FileHandle,
    written: number,
    checksum: number,
  ) {
    this.#path = path;
    this.plan = plan;
    this.#handle = handle;
    this.#written = written;
    this.#checksum = checksum;
  }

  /** Windows of this part written so far (relative to `plan.firstWindow`). */
  get windowsWritten(): number {
    return this.#written;
  }

  /**
   * Starts (or, with `resume`, continues) the part described by `plan` at `path`.
   *
   * @param path - the final file; work goes to `<path>.partial`
   * @param plan - what the part covers
   * @param options - `resume`: keep a matching `.partial` file; `alignTo`: keep a multiple of this many windows
   * @throws {@link SLMError} `BAD_OPTION` for an inconsistent plan; `BAD_CHECKPOINT` when a `.partial` file belongs to another plan
   */
  static async open(
    path: string,
    plan: ScoreFilePlan,
    options: { resume?: boolean; alignTo?: number } = {},
  ): Promise<ScoreFileWriter> {
    const problem = FORMAT.check({ ...plan });
    if (problem !== undefined) throw new SLMError('BAD_OPTION', `ScoreFileWriter.open: the plan ${problem}.`);
    const partial = `${path}.partial`;
    const windowBytes = plan.seqLen * plan.bytesPerScore;
    let written = 0;
    let checksum = 0;
    const existing = options.resume === true ? await stat(partial).catch(() => undefined) : undefined;
    if (existing !== undefined) {
      const handle = await open(partial, 'r');
      const header = Buffer.alloc(Math.min(HEADER_SIZE, existing.size));
      await handle.read(header, 0, header.length, 0);
      await handle.close();
      const found = decodeHeader(partial, header, FORMAT);
      for (const key of Object.keys(plan) as (keyof ScoreFilePlan)[]) {
        if (found[key] !== plan[key]) {
          throw new SLMError(
            'BAD_CHECKPOINT',
            `${partial}: cannot resume: its ${key} is ${found[key]}, this run's is ${plan[key]}. Remove it to start over.`,
          );
        }
      }
      const align = options.alignTo ?? 1;
      written = Math.floor(Math.floor((existing.size - HEADER_SIZE) / windowBytes) / align) * align;
      await truncate(partial, HEADER_SIZE + written * windowBytes);
      const kept = await open(partial, 'r');
      const chunk = Buffer.alloc(windowBytes);
      for (let window = 0; window < written; window++) {
        await kept.read(chunk, 0, windowBytes, HEADER_SIZE + window * windowBytes);
        checksum = continueCrc32(chunk, checksum);
      }
      await kept.close();
    }
    const handle = await open(partial, written > 0 ? 'r+' : 'w');
    if (written === 0) await writeAll(handle, encodeHeader(FORMAT, { ...plan, payloadCrc: 0 }), 0);
    return new ScoreFileWriter(path, plan, handle, written, checksum);
  }

  /** Appends the scores of the next windows, `[windows·T]`, flushed to disk before returning. */
  async append(scores: ArrayLike<number>): Promise<void> {
    const windowBytes = this.plan.seqLen * this.plan.bytesPerScore;
    if (
      scores.length % this.plan.seqLen !== 0 ||
      this.#written + scores.length / this.plan.seqLen > this.plan.partWindows
    ) {
      throw new SLMError(
        'SHAPE_MISMATCH',
        `ScoreFileWriter.append: ${scores.length} scores do not fit: windows of ${this.plan.seqLen}, ${this.plan.partWindows - this.#written} windows left.`,
      );
    }
    const bytes = encodeScores(scores, this.plan.bytesPerScore);
    await writeAll(this.#handle, bytes, HEADER_SIZE + this.#written * windowBytes);
    await this.#handle.sync();
    this.#checksum = continueCrc32(bytes, this.#checksum);
    this.#written += scores.length / this.plan.seqLen;
  }

  /** Finishes a complete part: final header, flush, rename to `path`. */
  async close(): Promise<ScoreFileInfo> {
    if (this.#written !== this.plan.partWindows) {
      throw new SLMError(
        'SHAPE_MISMATCH',
        `ScoreFileWriter.close: ${this.#written} of ${this.plan.partWindows} windows written.`,
      );
    }
    const info: ScoreFileInfo = { ...this.plan, payloadCrc: this.#checksum };
    await writeAll(this.#handle, encodeHeader(FORMAT, { ...info }), 0);
    await this.#handle.sync();
    await this.#handle.close();
    await rename(`${this.#path}.partial`, this.#path);
    return info;
  }

  /** Closes without finishing (the `.partial` file stays for a resume). */
  async release(): Promise<void> {
    await this.#handle.close();
  }
}

/** A score file (or part) opened for positional reads. */
export class ScoreFile {
  /** The file's path. */
  readonly path: string;
  /** Its header. */
  readonly info: ScoreFileInfo;
  readonly #handle: FileHandle;

  private constructor(path: string, info: ScoreFileInfo, handle: FileHandle) {
    this.path = path;
    this.info = info;
    this.#handle = handle;
  }

  /**
   * Opens and checks a score file (header checksum and consistency, size).
   *
   * @throws {@link SLMError} `BAD_FILE` for a file of another kind; `BAD_CHECKPOINT` naming the
   *   file and the problem for a corrupt or truncated one
   */
  static async open(path: string): Promise<ScoreFile> {
    const { handle, values } = await openWithHeader(
      path,
      FORMAT,
      (header) =>
        (header.partWindows as number) * (header.seqLen as number) * (header.bytesPerScore as number),
    );
    return new ScoreFile(path, values as unknown as ScoreFileInfo, handle);
  }

  /** Scores `[windows·T]` of windows `[first, first + windows)` (absolute window indices). */
  async read(first: number, windows: number): Promise<Float32Array> {
    const { seqLen, bytesPerScore, firstWindow, partWindows } = this.info;
    if (first < firstWindow || first + windows > firstWindow + partWindows) {
      throw new SLMError(
        'SHAPE_MISMATCH',
        `${this.path}: windows [${first}, ${first + windows}) are outside this file's [${firstWindow}, ${firstWindow + partWindows}).`,
      );
    }
    const bytes = Buffer.alloc(windows * seqLen * bytesPerScore);
    await this.#handle.read(
      bytes,
      0,
      bytes.length,
      HEADER_SIZE + (first - firstWindow) * seqLen * bytesPerScore,
    );
    return Float32Array.from({ length: windows * seqLen }, (_, i) =>
      bytesPerScore === 2 ? halfToFloat(bytes.readUInt16LE(i * 2)) : bytes.readFloatLE(i * 4),
    );
  }

  /** Recomputes the payload checksum, reading in chunks; throws `BAD_CHECKPOINT` when the scores are corrupt. */
  async verify(): Promise<void> {
    const { seqLen, bytesPerScore, partWindows, payloadCrc } = this.info;
    const end = HEADER_SIZE + partWindows * seqLen * bytesPerScore;
    const chunk = Buffer.alloc(Math.min(VERIFY_CHUNK_BYTES, end - HEADER_SIZE));
    let checksum = 0;
    for (let position = HEADER_SIZE; position < end; position += chunk.length) {
      const length = Math.min(chunk.length, end - position);
      const { bytesRead } = await this.#handle.read(chunk, 0, length, position);
      if (bytesRead !== length)
        throw new SLMError('BAD_CHECKPOINT', `${this.path}: file shrank while reading.`);
      checksum = continueCrc32(chunk.subarray(0, length), checksum);
    }
    if (checksum !== payloadCrc) {
      throw new SLMError(
        'BAD_CHECKPOINT',
        `${this.path}: score checksum ${checksum.toString(16)} differs from the header's ${payloadCrc.toString(16)}: the scores are corrupt.`,
      );
    }
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/**
 * Joins verified parts (shards) into one score file covering every window, atomically.
 *
 * @throws {@link SLMError} `BAD_CHECKPOINT` when parts disagree, overlap, leave gaps, or are corrupt
 */
export async function mergeScoreParts(parts: readonly string[], out: string): Promise<ScoreFileInfo> {
  const files = await Promise.all(parts.map((part) => ScoreFile.open(part)));
  try {
    files.sort((a, b) => a.info.firstWindow - b.info.firstWindow);
    const first = files[0]!.info;
    let next = 0;
    for (const file of files) {
      for (const key of [
        'bytesPerScore',
        'seqLen',
        'windowCount',
        'tokenFileCrc',
        'tokenCount',
        'model',
      ] as const) {
        if (file.info[key] !== first[key]) {
          throw new SLMError(
            'BAD_CHECKPOINT',
            `${file.path}: ${key} is ${file.info[key]}, but ${files[0]!.path} has ${first[key]}; parts of different runs cannot merge.`,
          );
        }
      }
      if (file.info.firstWindow !== next) {
        throw new SLMError(
          'BAD_CHECKPOINT',
          `${file.path} starts at window ${file.info.firstWindow}, expected ${next} (${file.info.firstWindow > next ? 'a part is missing' : 'parts overlap'}).`,
        );
      }
      await file.verify();
      next += file.info.partWindows;
    }
    if (next !== first.windowCount)
      throw new SLMError(
        'BAD_CHECKPOINT',
        `parts cover ${next} of ${first.windowCount} windows: a part is missing.`,
      );
    await rm(`${out}.partial`, { force: true });
    const writer = await ScoreFileWriter.open(out, {
      ...first,
      firstWindow: 0,
      partWindows: first.windowCount,
    });
    for (const file of files) {
      for (let window = 0; window < file.info.partWindows; window += 256) {
        const count = Math.min(256, file.info.partWindows - window);
        const scores = await file.read(file.info.firstWindow + window, count);
        await writer.append(scores); // float16 values round-trip exactly
      }
    }
    return await writer.close();
  } finally {
    await Promise.all(files.map((file) => file.close()));
  }
}
