import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  childPlan,
  createNativeLogFilter,
  isNativeStartupLine,
  LOW_MEMORY_ENV,
} from '../../src/cli/nativeLog.js';
import { testBackends } from '../helpers/backends.js';
import { runCli } from '../helpers/cli.js';

/** What TensorFlow 2.21 printed when tfjs-node loaded on this machine (TF_CPP_MIN_LOG_LEVEL unset). */
const STARTUP = [
  'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
  'I0000 00:00:1796496756.254318   11862 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results due to floating-point round-off errors from different computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.',
  'I0000 00:00:1796496756.292582   11862 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.',
  'To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.',
];

/** Runs `text` through a filter in the given chunks. */
function filtered(chunks: readonly string[]): string {
  let out = '';
  const filter = createNativeLogFilter((text) => {
    out += text;
  });
  for (const chunk of chunks) filter.push(chunk);
  filter.end();
  return out;
}

/** `text` cut at `cuts` (positions, any order). */
function cut(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (text.length + 1)), text.length])].sort(
    (a, b) => a - b,
  );
  return points.slice(1).map((end, i) => text.slice(points[i], end));
}

describe('the filter of TensorFlow start-up lines', () => {
  it('recognises the lines TensorFlow prints, and not warnings, errors or look-alikes', () => {
    for (const line of STARTUP) expect(isNativeStartupLine(line), line).toBe(true);
    for (const line of [
      'W0000 00:00:1796496756.2 11862 cpu_allocator_impl.cc:83] Allocation of 262144000 exceeds 10% of free system memory.',
      'E0000 00:00:1796496756.2 11862 something.cc:1] failed',
      'I0 is not a log line',
      'WARNING: something else',
      'backend: tensorflow',
    ])
      expect(isNativeStartupLine(line), line).toBe(false);
  });

  it('drops exactly those lines and passes everything else unchanged, however the text is cut', () => {
    const other = fc
      .string({ unit: fc.constantFrom('a', 'I', '0', ' ', ':', '.', ']', 'W', '\r', 'é', 'T', 'o') })
      .filter((line) => !isNativeStartupLine(line));
    fc.assert(
      fc.property(
        fc.array(fc.oneof(other, fc.constantFrom(...STARTUP)), { maxLength: 12 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (lines, endsWithNewline, cuts) => {
          const text = lines.join('\n') + (endsWithNewline && lines.length > 0 ? '\n' : '');
          const kept = lines.filter((line) => !isNativeStartupLine(line));
          // A start-up line's newline goes with it; the last line may have none.
          const expected = text
            .split('\n')
            .map((line, i, all) => ({ line, newline: i < all.length - 1 }))
            .filter(({ line, newline }) => !(isNativeStartupLine(line) && (newline || line !== '')))
            .map(({ line, newline }) => line + (newline ? '\n' : ''))
            .join('');
          expect(filtered(cut(text, cuts))).toBe(expected);
          expect(expected.split('\n').filter((l) => l !== '')).toEqual(kept.filter((l) => l !== ''));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes an unfinished progress line at once', () => {
    const seen: string[] = [];
    const filter = createNativeLogFilter((text) => seen.push(text));
    filter.push('train [=====     ] 5/10 steps');
    expect(seen).toEqual(['train [=====     ] 5/10 steps']);
    filter.push('\rtrain [======    ] 6/10 steps');
    expect(seen.at(-1)).toBe('\rtrain [======    ] 6/10 steps');
  });

  it('runs a child only where TensorFlow may load, filtering unless --verbose, with --low-memory’s settings', () => {
    const env = {};
    const filtered = { filter: true, env: {} };
    expect(childPlan(['train', '--data', 'x.tok'], env, 'linux')).toEqual(filtered);
    expect(childPlan(['--backend', 'tensorflow', 'eval'], env, 'linux')).toEqual(filtered);
    expect(childPlan(['--backend=auto', 'eval'], env, 'darwin')).toEqual(filtered);
    expect(childPlan(['train', '--low-memory'], env, 'linux')).toEqual({ filter: true, env: LOW_MEMORY_ENV });
    // RHO_SLM_BACKEND overrides --backend, as useBackend does.
    expect(childPlan(['--backend', 'wasm', 'eval'], { RHO_SLM_BACKEND: 'tensorflow' }, 'linux')).toEqual(
      filtered,
    );
    expect(childPlan(['train', '--low-memory', '--verbose'], env, 'linux')).toEqual({
      filter: false,
      env: LOW_MEMORY_ENV,
    });
    expect(LOW_MEMORY_ENV).toEqual({
      TF_ONEDNN_USE_SYSTEM_ALLOCATOR: '1',
      MALLOC_MMAP_THRESHOLD_: '1048576',
      GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
    });
    // glibc tunables the user set are kept
    expect(
      childPlan(['train', '--low-memory'], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux'),
    ).toEqual({
      filter: true,
      env: { ...LOW_MEMORY_ENV, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1' },
    });
    for (const [argv, environment, platform] of [
      [['--backend', 'wasm', 'eval'], env, 'linux'],
      [['--backend=cpu', 'train', '--low-memory'], env, 'linux'],
      [['train', '--verbose'], env, 'linux'],
      [['--help'], env, 'linux'],
      [[], env, 'linux'],
      [['train'], env, 'win32'],
      [['train'], { RHO_SLM_NATIVE_LOG_FILTERED: '0' }, 'linux'],
      [['train'], { RHO_SLM_BACKEND: 'wasm' }, 'linux'],
    ] as const)
      expect(childPlan(argv, environment, platform), argv.join(' ')).toBeUndefined();
  });
});

describe.runIf(testBackends.some((config) => config.backend === 'tensorflow'))(
  'rho-slm on the tensorflow backend',
  () => {
    it('shows no TensorFlow start-up lines, unless --verbose', async () => {
      const directory = await mkdtemp(join(tmpdir(), 'rho-slm-native-log-'));
      try {
        await writeFile(
          join(directory, 'text.txt'),
          'The quick brown fox jumps over the lazy dog. '.repeat(40),
        );
        expect((await runCli(directory, ['prepare', 'text.txt', '--out', 'text.tok'])).code).toBe(0);
        const train = (out: string, extra: string[]) =>
          runCli(directory, [
            '--backend',
            'tensorflow',
            'train',
            '--data',
            'text.tok',
            '--out',
            out,
            '--config',
            'nano',
            '--steps',
            '1',
            '--batch',
            '1',
            '--seq-len',
            '16',
            ...extra,
          ]);
        const quiet = await train('quiet', []);
        expect(quiet.code, quiet.stderr).toBe(0);
        expect(quiet.stderr).toContain('backend: tensorflow');
        expect(quiet.stderr).not.toMatch(/oneDNN|absl|^I\d{4} /m);
        const lean = await train('lean', ['--low-memory']);
        expect(lean.code, lean.stderr).toBe(0);
        expect(lean.stderr).not.toMatch(/oneDNN|absl|^I\d{4} /m);
        const verbose = await train('verbose', ['--verbose']);
        expect(verbose.code, verbose.stderr).toBe(0);
        expect(verbose.stderr).toContain('oneDNN custom operations are on');
        // A SIGINT to the parent alone (as a script sends it) reaches the child once: it stops
        // after the current step and says so, exit 0.
        const stopped = await runCli(
          directory,
          ['--backend', 'tensorflow', 'train', '--data', 'text.tok', '--out', 'stopped', '--config', 'nano'],
          { interruptWhen: /train: 1\//, delayMs: 500 },
        );
        expect(stopped.code, stopped.stderr).toBe(0);
        expect(stopped.stdout).toMatch(/stopped at step \d+/);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    }, 90_000);
  },
);
