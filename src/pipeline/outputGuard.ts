// Safe re-runs: earlier output is kept unless the caller says to replace or continue it, and one
// run per output holds a lock file beside it (`<out>.lock`) naming its process. A lock whose
// process is gone (a killed run) is stale and taken over.
import { access, link, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { SLMError } from '../core/errors.js';

/** What a lock file records. */
interface LockRecord {
  pid: number;
  host: string;
  command: string;
  started: string;
}

/** A held lock; `release()` removes it. */
export interface OutputLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file (once). */
  release(): Promise<void>;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'; // alive, owned by someone else
  }
}

async function readLock(path: string): Promise<LockRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(path, 'utf8')) as LockRecord;
    return Number.isInteger(record.pid) && record.pid > 0 ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock on `out` for `command`: creates `<out>.lock` atomically (written beside it, then
 * hard-linked into place), or, when one exists, takes it over if its process on this host has
 * ended; otherwise fails naming that process.
 *
 * @param out - the output file or directory
 * @param command - what holds the lock, for the message another run prints
 * @throws {@link SLMError} `OUTPUT_LOCKED` naming the PID (and host) that holds the lock
 * @example
 * ```ts
 * const lock = await lockOutput('slm', 'train');
 * try { ... } finally { await lock.release(); }
 * ```
 */
export async function lockOutput(out: string, command: string): Promise<OutputLock> {
  const path = `${resolve(out)}.lock`; // beside the output, also for `dir/`
  const record: LockRecord = {
    pid: process.pid,
    host: hostname(),
    command,
    started: new Date().toISOString(),
  };
  const temporary = `${path}.${process.pid}-${Date.now()}`;
  await writeFile(temporary, `${JSON.stringify(record)}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temporary, path);
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw error;
      }
      const holder = await readLock(path);
      const stale = holder !== undefined && holder.host === record.host && !isRunning(holder.pid);
      if (!stale || attempt > 0) {
        throw new SLMError(
          'OUTPUT_LOCKED',
          holder === undefined
            ? `${out} is locked by ${path}, which is unreadable; remove it if no other run uses ${out}.`
            : `${out} is in use by '${holder.command}' (PID ${holder.pid}${holder.host === record.host ? '' : ` on ${holder.host}`}, since ${holder.started}); wait for it to finish or stop it.`,
        );
      }
      await rm(path, { force: true }); // stale: its process has ended
    }
  } finally {
    await rm(temporary, { force: true });
  }
  let released = false;
  return {
    path,
    release: async () => {
      if (released) return;
      released = true;
      if ((await readLock(path))?.pid === process.pid) await rm(path, { force: true });
    },
  };
}

/** The first of `paths` that exists, or `undefined`. */
export async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return undefined;
}

/** Whether `path` is the output `out` or one of its companions (temporary file, lock). */
export function isOutputCompanion(path: string, out: string): boolean {
  return path === out || path.startsWith(`${out}.tmp-`) || path.startsWith(`${out}.lock`);
}
