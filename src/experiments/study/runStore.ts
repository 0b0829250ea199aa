// The study's finished runs on disk, one file each, so that a killed study continues where it
// stopped: every record carries a header, the settings it belongs to and a checksum, and is
// written atomically.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SLMError } from '../../core/errors.js';
import { writeFileAtomic } from '../../io/atomicFile.js';
import type { StudySettings } from './settings.js';

const FORMAT = 'rho-slm-study-run';
const VERSION = 1;

/**
 * A fingerprint of the settings that decide a run's result: everything but the seed lists, the
 * levels and the learning-rate candidates (a run's id names its seed, level and learning rate), so
 * `--seeds 2` now and the full study later share their finished runs.
 */
export function settingsFingerprint(settings: StudySettings): string {
  const { seeds: _seeds, levels: _levels, learningRates: _rates, ...rest } = settings;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

/** Finished runs under `<directory>/runs/`, each `<id>.json`. */
export class RunStore {
  private readonly fingerprint: string;

  /**
   * @param directory - the study's output directory
   * @param settings - the settings every record must have been made with
   */
  constructor(
    readonly directory: string,
    settings: StudySettings,
  ) {
    this.fingerprint = settingsFingerprint(settings);
  }

  private path(id: string): string {
    return join(this.directory, 'runs', `${id}.json`);
  }

  /**
   * The record of run `id`, or `undefined` when it has not finished.
   *
   * @throws {SLMError} `BAD_FILE` when the file is damaged or was made with other settings
   */
  async read<T>(id: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(id), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const fail = (why: string) =>
      new SLMError(
        'BAD_FILE',
        `study: ${this.path(id)}: ${why}; delete it to run it again, or use another --out`,
      );
    let record: { format?: string; version?: number; settings?: string; crc32?: number; run?: unknown };
    try {
      record = JSON.parse(text);
    } catch {
      throw fail('not JSON');
    }
    if (record.format !== FORMAT || record.version !== VERSION)
      throw fail(`not a ${FORMAT} v${VERSION} file`);
    if (record.settings !== this.fingerprint)
      throw fail(`made with other study settings (${record.settings}, these are ${this.fingerprint})`);
    if (record.crc32 !== crc32(JSON.stringify(record.run))) throw fail('checksum mismatch');
    return record.run as T;
  }

  /** Writes the record of run `id` atomically. */
  async write(id: string, run: unknown): Promise<void> {
    await mkdir(join(this.directory, 'runs'), { recursive: true });
    const record = {
      format: FORMAT,
      version: VERSION,
      settings: this.fingerprint,
      crc32: crc32(JSON.stringify(run)),
      run,
    };
    const bytes = Buffer.from(`${JSON.stringify(record, null, 1)}\n`);
    await writeFileAtomic(this.path(id), async (handle) => {
      await handle.write(bytes);
    });
  }

  /** Directory of the reference model of `id` (a Hugging Face checkpoint). */
  modelDirectory(id: string): string {
    return join(this.directory, 'models', id);
  }
}
