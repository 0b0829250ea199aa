// Step 2: the reference model's loss on every target position of a corpus, written once, per shard,
// resumable after a crash with a byte-identical result.
import { appendFile, rm } from 'node:fs/promises';
import { SLMError } from '../core/errors.js';
import { type ScoreFileInfo, ScoreFileWriter } from '../data/scoreFile.js';
import type { TokenFile } from '../data/tokenFile.js';
import { readWindows, windowCount } from '../data/windows.js';
import type { LlamaModel } from '../model/llama.js';
import { withFingerprintedModel } from './inferenceModel.js';
import { openTokens } from './openTokens.js';
import { firstExisting, lockOutput } from './outputGuard.js';
import { windowLosses } from './tokenLosses.js';

/** One shard of a scoring job. */
export interface ShardSpec {
  /** This shard, `0 … count − 1`. */
  index: number;
  /** Shards in the job. */
  count: number;
}

/** Options of {@link scoreCorpus}. */
export interface ScoreOptions {
  /** The reference model, or its checkpoint directory. */
  model: LlamaModel | string;
  /** The token file to score. */
  data: string;
  /** The score file (or part) to write. */
  out: string;
  /** Window length `T`; selective training must use the same. @default the model's max_position_embeddings */
  seqLen?: number;
  /** Windows per forward pass. Resuming keeps whole batches, so results do not depend on crashes. @default 8 */
  batchSize?: number;
  /** This job's part of the corpus: shard `index` of `count` (contiguous window ranges). @default { index: 0, count: 1 } */
  shard?: ShardSpec;
  /** Continue an interrupted run from `<out>.partial`. @default false */
  resume?: boolean;
  /** Replace an existing `out` or `<out>.partial` (otherwise that is an error unless resuming). @default false */
  force?: boolean;
  /** Storage of the scores. @default 'float32' */
  dtype?: 'float16' | 'float32';
  /** Called after each batch with windows done and windows in this part. */
  onProgress?: (done: number, total: number) => void;
  /** Appends one JSON line per batch here: windows done, windows in the part, seconds, tokens/s. */
  metrics?: string;
  /** Stops after the current batch (the partial file stays resumable). */
  signal?: AbortSignal;
}

/**
 * Scores a token file with a reference model: `L_ref` for every target position of every window.
 *
 * @returns the written header, or `undefined` when stopped by `signal` (resume later)
 * @throws {@link SLMError} `BAD_OPTION` for a bad shard; `BAD_CHECKPOINT` for mismatched resume
 *   files; `OUTPUT_EXISTS` when `out` or `<out>.partial` exists and neither `resume` nor `force`
 *   is set; `OUTPUT_LOCKED` while another run writes `out`
 * @example
 * ```ts
 * await scoreCorpus({ model: 'ref/', data: 'noisy.tok', out: 'noisy.scores' });
 * ```
 */
export async function scoreCorpus(options: ScoreOptions): Promise<ScoreFileInfo | undefined> {
  if (options.resume !== true && options.force !== true) {
    const found = await firstExisting([`${options.out}.partial`, options.out]);
    if (found !== undefined) {
      throw new SLMError(
        'OUTPUT_EXISTS',
        found === options.out
          ? `score: ${options.out} already exists; pass --force to replace it.`
          : `score: ${found} holds an interrupted run; pass --resume to continue it or --force to start over.`,
      );
    }
  }
  const lock = await lockOutput(options.out, 'score');
  try {
    return await score(options);
  } finally {
    await lock.release();
  }
}

async function score(options: ScoreOptions): Promise<ScoreFileInfo | undefined> {
  return withFingerprintedModel(options.model, async (model, fingerprint) => {
    const file = await openTokens(options.data, model.config.vocab_size);
    try {
      return await scoreFile(options, model, fingerprint, file);
    } finally {
      await file.close();
    }
  });
}

async function scoreFile(
  options: ScoreOptions,
  model: LlamaModel,
  fingerprint: string,
  file: TokenFile,
): Promise<ScoreFileInfo | undefined> {
  const seqLen = options.seqLen ?? model.config.max_position_embeddings;
  const batchSize = options.batchSize ?? 8;
  const { index, count } = options.shard ?? { index: 0, count: 1 };
  if (!(Number.isInteger(index) && Number.isInteger(count) && count >= 1 && index >= 0 && index < count)) {
    throw new SLMError(
      'BAD_OPTION',
      `score: shard ${index}/${count} is not valid; expected i/n with 0 ≤ i < n.`,
    );
  }
  const windows = windowCount(file.info.tokenCount, seqLen);
  const firstWindow = Math.floor((index * windows) / count);
  const partWindows = Math.floor(((index + 1) * windows) / count) - firstWindow;
  const writer = await ScoreFileWriter.open(
    options.out,
    {
      bytesPerScore: options.dtype === 'float16' ? 2 : 4,
      seqLen,
      windowCount: windows,
      firstWindow,
      partWindows,
      tokenFileCrc: file.info.payloadCrc,
      tokenCount: file.info.tokenCount,
      model: fingerprint,
    },
    { resume: options.resume === true, alignTo: batchSize },
  );
  if (writer.windowsWritten === 0 && options.metrics !== undefined)
    await rm(options.metrics, { force: true });
  try {
    const started = Date.now();
    const resumedAt = writer.windowsWritten;
    for (let done = writer.windowsWritten; done < partWindows; done += batchSize) {
      if (options.signal?.aborted) return undefined;
      const ids = Array.from(
        { length: Math.min(batchSize, partWindows - done) },
        (_, i) => firstWindow + done + i,
      );
      await writer.append(await windowLosses(model, await readWindows(file, ids, seqLen), seqLen));
      options.onProgress?.(done + ids.length, partWindows);
      if (options.metrics !== undefined) {
        const seconds = (Date.now() - started) / 1000;
        const tokensPerSecond = ((done + ids.length - resumedAt) * seqLen) / Math.max(seconds, 1e-3);
        const line = { windowsDone: done + ids.length, windows: partWindows, seconds, tokensPerSecond };
        await appendFile(options.metrics, `${JSON.stringify(line)}\n`);
      }
    }
    return await writer.close();
  } finally {
    if (writer.windowsWritten < partWindows) await writer.release();
  }
}
