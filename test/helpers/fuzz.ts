// Seeded mutation fuzzing of file readers. Each case writes mutated bytes, runs a reader under a
// time limit, and classifies the outcome: the identical result, a result that differs visibly (in a
// field readers compare, such as a fingerprint), or an SLMError naming the file. Anything else —
// another exception, a silently different result, a hang, memory growth — is a failure.
import { basename } from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRandom } from '../../src/core/random.js';
import { SLMError } from '../../src/index.js';

/** A seeded source of numbers in [0, 1). */
export type Random = () => number;

/** An integer in `[0, n)`. */
export const below = (random: Random, n: number) => Math.floor(random() * n);

/** Values a JSON field is set to: wrong signs, sizes, types. */
export const HOSTILE_VALUES: readonly unknown[] = [
  -1,
  0,
  1,
  1e12,
  2 ** 53,
  1.5,
  'x',
  '8',
  null,
  [],
  [1],
  {},
  true,
];

/** Bytes with `count` random bits flipped, inside `[from, to)`. */
export function flipBits(bytes: Buffer, random: Random, count: number, from = 0, to = bytes.length): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < count; i++) out[from + below(random, to - from)]! ^= 1 << below(random, 8);
  return out;
}

/** The first `length` bytes. */
export function truncate(bytes: Buffer, random: Random): Buffer {
  return bytes.subarray(0, below(random, bytes.length));
}

/** `bytes` followed by 1–64 random bytes. */
export function appendGarbage(bytes: Buffer, random: Random): Buffer {
  return Buffer.concat([
    bytes,
    Buffer.from(Array.from({ length: 1 + below(random, 64) }, () => below(random, 256))),
  ]);
}

/** A copy of a JSON value with one field (at any depth) set to a hostile value or removed. */
export function mutateJson(value: unknown, random: Random): unknown {
  const copy = structuredClone(value);
  const holders: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const children: [string | number, unknown][] = Array.isArray(node)
      ? [...node.entries()]
      : Object.entries(node);
    for (const [key, child] of children) {
      holders.push([node as Record<string, unknown>, key]);
      walk(child);
    }
  };
  walk(copy);
  if (holders.length === 0) return HOSTILE_VALUES[below(random, HOSTILE_VALUES.length)];
  const [holder, key] = holders[below(random, holders.length)]!;
  if (random() < 0.15 && !Array.isArray(holder)) delete (holder as Record<string, unknown>)[key as string];
  else
    (holder as Record<string | number, unknown>)[key] = HOSTILE_VALUES[below(random, HOSTILE_VALUES.length)];
  return copy;
}

/** How a reader's result compares with the unmutated file's. */
export type Comparison = 'identical' | 'visible' | 'silent';

/** One format under fuzzing. */
export interface FuzzSpec<T> {
  /** Cases to run. */
  cases: number;
  /** Seed of the mutations. */
  seed: number;
  /** The mutated bytes of case `index` and the mutation's name. */
  mutate: (random: Random, index: number) => { name: string; bytes: Buffer };
  /** Writes `bytes` where the reader looks and returns the path it must name in errors. */
  write: (bytes: Buffer) => Promise<string>;
  /** Reads the file back. */
  read: () => Promise<T>;
  /** Compares a successful read with the original; may release resources. */
  compare: (result: T) => Promise<Comparison> | Comparison;
  /** Time limit per case. @default 2000 */
  timeoutMs?: number;
}

/** Outcome counts, e.g. `{ identical: 3, visible: 1, 'SLMError BAD_CHECKPOINT': 996 }`, and failures. */
export interface FuzzReport {
  outcomes: Record<string, number>;
  failures: string[];
  /**
   * Growth of reachable heap + array buffers, in bytes: the least of the last three samples (taken
   * every 100 cases) over the sample after the first 100. A leak grows every sample; buffers still
   * in flight at one sample are noise that the least of three ignores.
   */
  memoryGrowth: number;
}

v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Heap and array-buffer bytes still reachable (after pending closes settle and a full collection). */
const memory = async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  collectGarbage();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

/** Runs every case of `spec` and tallies the outcomes. */
export async function fuzz<T>(spec: FuzzSpec<T>): Promise<FuzzReport> {
  const random = createRandom(spec.seed);
  const report: FuzzReport = { outcomes: {}, failures: [], memoryGrowth: 0 };
  const tally = (outcome: string) => (report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1);
  const samples: number[] = []; // the first after 100 cases, once modules and caches are warm
  for (let index = 0; index < spec.cases; index++) {
    const { name, bytes } = spec.mutate(random, index);
    const path = await spec.write(bytes);
    const fail = (why: string) => {
      tally(`FAILED ${why.split(':')[0]}`);
      report.failures.push(`case ${index} (${name}): ${why}`);
    };
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'hang'>((resolve) => {
      timer = setTimeout(() => resolve('hang'), spec.timeoutMs ?? 2000);
    });
    try {
      const result = await Promise.race([spec.read(), limit]);
      if (result === 'hang') fail('hang: no result within the time limit');
      else {
        const comparison = await spec.compare(result as T);
        if (comparison === 'silent') fail('silent: read a different result without an error');
        else tally(comparison);
      }
    } catch (error) {
      if (!(error instanceof SLMError)) fail(`exception: ${String(error).slice(0, 200)}`);
      else if (!error.message.includes(basename(path))) fail(`unnamed: ${error.code} ${error.message}`);
      else tally(`SLMError ${error.code}`);
    } finally {
      clearTimeout(timer);
    }
    if (index % 100 === 99) samples.push(await memory());
  }
  if (samples.length >= 4) report.memoryGrowth = Math.min(...samples.slice(-3)) - samples[0]!;
  return report;
}
