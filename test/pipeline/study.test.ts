import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseText } from '../../src/pipeline/corpusSources.js';
import { buildFairCorpus } from '../../src/pipeline/study/corpus.js';
import { writeStudyReport } from '../../src/pipeline/study/report.js';
import { runStudy, type StudyResult } from '../../src/pipeline/study/run.js';
import { STUDY_SETTINGS } from '../../src/pipeline/study/settings.js';
import { useBackend } from '../../src/tfjs/backend.js';

const CONDITIONS = ['reference', 'clm', 'ceiling', 'slm', 'random', 'model-loss', 'slm-sequence'];

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

describe('study --quick (the CI guard)', () => {
  let directory: string;
  let first: StudyResult;
  let second: StudyResult;
  beforeAll(async () => {
    const { backend } = await useBackend('auto');
    directory = await mkdtemp(join(tmpdir(), 'rho-slm-study-'));
    first = await runStudy(STUDY_SETTINGS.quick, backend);
    second = await runStudy(STUDY_SETTINGS.quick, backend);
  }, 240_000);
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('runs every condition and the ratio sweep for every seed', () => {
    const { seeds, ratio, sweep } = STUDY_SETTINGS.quick;
    expect(new Set(first.runs.map((run) => run.condition))).toEqual(new Set(CONDITIONS));
    expect(first.runs.filter((run) => run.condition === 'reference')).toHaveLength(1);
    for (const seed of seeds) {
      const ofSeed = first.runs.filter((run) => run.seed === seed);
      expect(ofSeed.map((run) => run.condition).sort()).toEqual(
        [...CONDITIONS.filter((c) => c !== 'reference'), ...sweep.map(() => 'slm')].sort(),
      );
      const ratios = ofSeed.filter((run) => run.condition === 'slm').map((run) => run.ratio);
      expect(ratios.sort()).toEqual([ratio, ...sweep].sort());
      // One token budget for every condition of a seed.
      expect(new Set(ofSeed.map((run) => run.tokens)).size).toBe(1);
    }
  });

  it('has every field of the study.json contract, and every number finite', () => {
    for (const run of first.runs) {
      expect(Object.keys(run)).toEqual(
        expect.arrayContaining([
          'condition',
          'ratio',
          'strategy',
          'scope',
          'seed',
          'tokens',
          'finalHeldOutLoss',
          'curve',
        ]),
      );
      expect(run.curve.length).toBeGreaterThan(0);
      expect(run.curve.at(-1)!.loss).toBe(run.finalHeldOutLoss);
    }
    expect(Object.keys(first)).toEqual(['settings', 'runs', 'summary']);
    expect(nonFinite(first, 'study', (path) => path.includes('tokensToReachClm'))).toEqual([]);
    expect(first.summary.verdicts.map((v) => v.claim)).toEqual([
      'SLM < CLM',
      'SLM < reference',
      'SLM < random',
      'SLM < model-loss',
    ]);
  });

  it('gives the same numbers twice at fixed seeds', () => {
    expect(second.runs).toHaveLength(first.runs.length);
    first.runs.forEach((run, i) => {
      const again = second.runs[i]!;
      expect([again.condition, again.ratio, again.seed]).toEqual([run.condition, run.ratio, run.seed]);
      again.curve.forEach((point, k) => {
        expect(point.tokens).toBe(run.curve[k]!.tokens);
        expect(point.loss).toBeCloseTo(run.curve[k]!.loss, 4);
      });
    });
    expect(second.summary.learningRate.chosen).toBe(first.summary.learningRate.chosen);
  });

  it('writes study.json (the same result), study.md and a self-contained study.html', async () => {
    await writeStudyReport(first, directory, 'rho-slm study --quick');
    expect(JSON.parse(await readFile(join(directory, 'study.json'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(first)),
    );
    const html = await readFile(join(directory, 'study.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(5);
    expect(html).not.toMatch(/<script|NaN|https?:\/\/(?!www\.w3\.org)/);
    expect(await readFile(join(directory, 'study.md'), 'utf8')).toContain('| slm-sequence |');
    expect(tf.memory().numTensors).toBeLessThan(50);
  });
});

describe('the fair split', () => {
  it('draws reference, validation, held-out and noisy prose from disjoint addresses of every era', async () => {
    const corpus = await buildFairCorpus(STUDY_SETTINGS.quick.corpus, 2024);
    const splits = Object.values(corpus.addresses);
    const all = splits.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(corpus.noisySource).toHaveLength(corpus.noisy.length);
    const share = corpus.noisySource.reduce((a, b) => a + b, 0) / corpus.noisy.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
  });

  it('normalises typographic Unicode the same way everywhere', () => {
    expect(normaliseText('\u201CYes\u201D\u2014it\u2019s\u2026\u00A0ok\u00AD\r\n')).toBe(
      '"Yes"--it\'s... ok\n',
    );
    expect(normaliseText('caf\u0065\u0301 \u00A3')).toBe('caf\u00E9 \u00A3');
  });
});
