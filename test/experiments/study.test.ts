import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLMError } from '../../src/core/errors.js';
import { normaliseText } from '../../src/experiments/corpusSources.js';
import { buildStudyCorpus } from '../../src/experiments/study/corpus.js';
import { writeStudyReport } from '../../src/experiments/study/report.js';
import {
  ablationConditions,
  mainConditions,
  runStudy,
  type StudyResult,
} from '../../src/experiments/study/run.js';
import { STUDY_SETTINGS, studySettingsFor } from '../../src/experiments/study/settings.js';
import { useBackend } from '../../src/tfjs/backend.js';

const quick = STUDY_SETTINGS.quick;

/** Paths of the numbers in `value` that are not finite (`null` allowed only where `nullable` says). */
function nonFinite(value: unknown, path: string, nullable: (path: string) => boolean): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (value === null) return nullable(path) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => nonFinite(item, `${path}[${i}]`, nullable));
  if (typeof value === 'object' && value !== undefined)
    return Object.entries(value as object).flatMap(([key, item]) =>
      nonFinite(item, `${path}.${key}`, nullable),
    );
  return [];
}

async function filesOf(directory: string): Promise<Map<string, string>> {
  const names = await readdir(join(directory, 'runs'));
  return new Map(
    await Promise.all(
      names.map(async (name) => [name, await readFile(join(directory, 'runs', name), 'utf8')] as const),
    ),
  );
}

describe('study --quick (the CI guard)', () => {
  let whole: string;
  let killed: string;
  let full: StudyResult;
  let resumed: StudyResult;
  let beforeResume: Map<string, string>;
  const trainedOnResume: string[] = [];
  const trainedBeforeKill: string[] = [];
  let backend: string;
  beforeAll(async () => {
    ({ backend } = await useBackend('auto'));
    whole = await mkdtemp(join(tmpdir(), 'rho-slm-study-'));
    killed = await mkdtemp(join(tmpdir(), 'rho-slm-study-killed-'));
    full = await runStudy(quick, { out: whole, backend });
    // A study stopped after its sixth run, as a kill would, then resumed.
    await expect(
      runStudy(quick, {
        out: killed,
        backend,
        onRunDone: (id) => {
          trainedBeforeKill.push(id);
          if (trainedBeforeKill.length === 6) throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    beforeResume = await filesOf(killed);
    resumed = await runStudy(quick, {
      out: killed,
      backend,
      onRunDone: (id) => void trainedOnResume.push(id),
    });
  }, 300_000);
  afterAll(async () => {
    await rm(whole, { recursive: true, force: true });
    await rm(killed, { recursive: true, force: true });
  });

  it('runs every condition at every level for every seed, the ablations and one reference per seed', () => {
    const { levels, seeds } = quick;
    const expected = [
      ...levels.flatMap((share, index) =>
        (index === 0 ? seeds.main : seeds.otherLevels).flatMap((seed) =>
          mainConditions(quick).map((spec) => `${spec.condition} ${spec.ratio} ${share} ${seed}`),
        ),
      ),
      ...seeds.ablations.flatMap((seed) =>
        ablationConditions(quick).map((spec) => `${spec.condition} ${spec.ratio} ${levels[0]} ${seed}`),
      ),
      ...seeds.main.map((seed) => `reference 1 null ${seed}`),
    ].sort();
    expect(
      full.runs.map((run) => `${run.condition} ${run.ratio} ${run.emailShare} ${run.seed}`).sort(),
    ).toEqual(expected);
    expect(full.calibration.map((run) => run.learningRate)).toEqual(quick.learningRates);
    expect(full.progress).toEqual({
      plannedRuns: full.progress.plannedRuns,
      finishedRuns: full.progress.plannedRuns,
    });
    // One token budget per level: one pass over its noisy windows.
    for (const share of levels) {
      const budgets = new Set(full.runs.filter((run) => run.emailShare === share).map((run) => run.tokens));
      expect(budgets.size).toBe(1);
      const measured = full.settings.levels.find((level) => level.emailShare === share)!;
      expect([...budgets][0]).toBe(measured.trainTokens);
      expect(measured.trainTokens).toBeGreaterThan(
        measured.noisyTokens - quick.batchSize * quick.seqLen - quick.seqLen,
      );
      expect(full.settings.corpus.reference * 10).toBeLessThanOrEqual(measured.proseTokens);
    }
  });

  it('has every field of the study.json contract, ≥ 10 curve points per run, and every number finite', () => {
    for (const run of full.runs.filter((r) => r.condition !== 'reference')) {
      expect(run.curve.length).toBeGreaterThanOrEqual(11);
      expect(run.curve.at(-1)!.heldOutLoss).toBe(run.finalHeldOutLoss);
    }
    expect(Object.keys(full)).toEqual([
      'commit',
      'runCommits',
      'machine',
      'progress',
      'settings',
      'calibration',
      'runs',
      'summary',
    ]);
    expect(
      nonFinite(full, 'study', (path) => /ci95|meanTokens|perSeed\[\d+\]\.tokens|emailShare$/.test(path)),
    ).toEqual([]);
    const claims = full.summary.claims.map((claim) => `${claim.claim} @${claim.emailShare}`);
    expect(claims).toEqual([
      'slm < clm @0.8',
      'slm < reference @0.8',
      'slm < random @0.8',
      'slm < oracle-filter @0.8',
      'slm < model-loss @0.8',
      'slm < clm @0.5',
      'slm < reference @0.5',
      'slm < random @0.5',
      'slm < oracle-filter @0.5',
    ]);
    for (const claim of full.summary.claims) {
      const slm = full.runs.find(
        (r) =>
          r.condition === 'slm' &&
          r.ratio === quick.ratio &&
          r.emailShare === claim.emailShare &&
          r.seed === claim.seeds[0],
      )!;
      expect(claim.differences[0]!.difference).toBeLessThan(slm.finalHeldOutLoss);
      expect(['holds', 'reversed', 'no clear difference']).toContain(claim.verdict);
    }
    expect(full.summary.tokensToClmFinal.map((entry) => entry.emailShare)).toEqual(quick.levels);
  });

  it('resumes a killed study without repeating or changing a finished run', async () => {
    expect(trainedBeforeKill).toHaveLength(6);
    expect(beforeResume.size).toBe(6);
    expect(trainedOnResume.some((id) => trainedBeforeKill.includes(id))).toBe(false);
    expect(trainedBeforeKill.length + trainedOnResume.length).toBe(full.progress.plannedRuns);
    const after = await filesOf(killed);
    for (const [name, text] of beforeResume) expect(after.get(name)).toBe(text);
    // The same numbers as the study that was never stopped.
    expect(resumed.runs).toHaveLength(full.runs.length);
    resumed.runs.forEach((run, i) => {
      const again = full.runs[i]!;
      expect([run.condition, run.ratio, run.emailShare, run.seed]).toEqual([
        again.condition,
        again.ratio,
        again.emailShare,
        again.seed,
      ]);
      run.curve.forEach((point, k) => {
        expect(point.tokens).toBe(again.curve[k]!.tokens);
        expect(point.heldOutLoss).toBeCloseTo(again.curve[k]!.heldOutLoss, 4);
      });
    });
  });

  it('reports the finished runs without training (finishedOnly)', async () => {
    const trained: string[] = [];
    const read = await runStudy(quick, {
      out: killed,
      backend,
      finishedOnly: true,
      onRunDone: (id) => void trained.push(id),
    });
    expect(trained).toEqual([]);
    expect(read.runs).toEqual(resumed.runs);
    expect(read.summary.claims).toEqual(resumed.summary.claims);
  });

  it('writes study.json (the same result), study.md and a self-contained study.html', async () => {
    await writeStudyReport(full, whole, 'rho-slm study --quick');
    expect(JSON.parse(await readFile(join(whole, 'study.json'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(full)),
    );
    const html = await readFile(join(whole, 'study.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(quick.levels.length + 1);
    expect(html).not.toMatch(/<script|NaN|https?:\/\/(?!www\.w3\.org)/);
    expect(await readFile(join(whole, 'study.md'), 'utf8')).toContain('| slm < oracle-filter | 80% |');
    expect(tf.memory().numTensors).toBeLessThan(50);
  });
});

describe('the study corpus', () => {
  it('draws reference, validation, held-out and noisy prose from disjoint addresses, one noisy corpus per level', async () => {
    const corpus = await buildStudyCorpus(quick.corpus, quick.levels, 2024);
    const all = Object.values(corpus.addresses).flat();
    expect(new Set(all).size).toBe(all.length);
    corpus.levels.forEach((level, i) => {
      expect(level.emailShare).toBe(quick.levels[i]);
      expect(level.source).toHaveLength(level.tokens.length);
      expect(level.tokens.length).toBeGreaterThanOrEqual(quick.corpus.noisy);
      const share = level.source.reduce((a, b) => a + b, 0) / level.tokens.length;
      expect(Math.abs(share - level.emailShare)).toBeLessThan(0.05);
      expect(level.proseTokens).toBe(level.tokens.length - level.source.reduce((a, b) => a + b, 0));
    });
  });

  it('refuses a reference set larger than a tenth of a level’s prose', async () => {
    const error = await buildStudyCorpus({ ...quick.corpus, reference: 3_000 }, [0.8], 2024).catch((e) => e);
    expect(error).toBeInstanceOf(SLMError);
    expect((error as SLMError).code).toBe('BAD_OPTION');
    expect((error as SLMError).message).toMatch(/at most a tenth of the prose/);
  });

  it('normalises typographic Unicode the same way everywhere', () => {
    expect(normaliseText('\u201CYes\u201D\u2014it\u2019s\u2026\u00A0ok\u00AD\r\n')).toBe(
      '"Yes"--it\'s... ok\n',
    );
    expect(normaliseText('caf\u0065\u0301 \u00A3')).toBe('caf\u00E9 \u00A3');
  });
});

describe('studySettingsFor', () => {
  it('caps every seed group and keeps the levels asked for, main level first', () => {
    const settings = studySettingsFor('default', { seeds: 2, levels: [0.5] });
    expect(settings.seeds).toEqual({ main: [1, 2], otherLevels: [1, 2], ablations: [1, 2] });
    expect(settings.levels).toEqual([0.5]);
    expect(studySettingsFor('default')).toEqual(STUDY_SETTINGS.default);
  });

  it('rejects a level the preset does not have and a seed count below one', () => {
    expect(() => studySettingsFor('default', { levels: [0.3] })).toThrow(/`--levels` must be among 0.8, 0.5/);
    expect(() => studySettingsFor('default', { seeds: 0 })).toThrow(/`--seeds` must be an integer ≥ 1/);
  });
});
