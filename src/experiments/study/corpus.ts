// The study's fair split: one target domain (State of the Union addresses sampled across every
// era, normalised alike), from which the reference, validation and held-out sets are disjoint
// samples; the noisy corpus is the remaining prose interleaved with raw e-mail.

import { SLMError } from '../../core/errors.js';
import { createRandom } from '../../core/random.js';
import { BYTE_OFFSET, byteTokenizer } from '../../data/byteTokenizer.js';
import { type Address, readAddresses, readEmails } from '../corpusSources.js';

/** Sizes of the splits, in bytes of UTF-8 (one byte is one token, plus an EOS per document). */
export interface FairCorpusSizes {
  /** Bytes taken from each address in the reference, validation and held-out sets (cut at a line break). */
  pieceBytes: number;
  /** Reference set (trains the reference model). */
  reference: number;
  /** Validation set (every choice is settled on it). */
  validation: number;
  /** Held-out set (measured only, never used for a choice). */
  heldOut: number;
  /** Noisy training corpus, prose and e-mail together. */
  noisy: number;
  /** Share of the noisy corpus that is raw e-mail. */
  emailShare: number;
}

/** The splits as token ids (documents separated by EOS). */
export interface FairCorpus {
  reference: Int32Array;
  validation: Int32Array;
  heldOut: Int32Array;
  noisy: Int32Array;
  /** Per noisy token: 0 prose, 1 e-mail. */
  noisySource: Uint8Array;
  /** The addresses (file names) each split drew from. */
  addresses: Record<'reference' | 'validation' | 'heldOut' | 'noisy', string[]>;
  /** What went in, for the report. */
  description: Record<string, string | number>;
}

/** Kinds of held-out target bytes the study reports separately. */
export const TOKEN_KINDS = ['letters', 'otherAscii', 'nonAscii'] as const;

/** A kind of target byte: ASCII letters; other ASCII (space, digits, punctuation); non-ASCII bytes and EOS. */
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** The kind of each byte-tokenizer id. */
export function tokenKind(id: number): TokenKind {
  const byte = id - BYTE_OFFSET;
  if (byte < 0 || byte >= 128) return 'nonAscii';
  return (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) ? 'letters' : 'otherAscii';
}

/** The start of `text`, at most `bytes` long, cut after its last line break (or the whole text). */
function piece(text: string, bytes: number): string {
  const encoded = Buffer.from(text);
  if (encoded.length <= bytes) return text;
  const head = encoded
    .subarray(0, bytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  const cut = head.lastIndexOf('\n');
  return cut > 0 ? head.slice(0, cut + 1) : head;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = createRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Takes addresses off `pool` until `budget` bytes of pieces. */
function takePieces(pool: Address[], budget: number, pieceBytes: number): Address[] {
  const taken: Address[] = [];
  let size = 0;
  while (size < budget && pool.length > 0) {
    const address = pool.shift()!;
    const text = piece(address.text, Math.min(pieceBytes, budget - size));
    taken.push({ ...address, text });
    size += Buffer.byteLength(text);
  }
  return taken;
}

function tokenize(documents: readonly string[]): Int32Array {
  const tokenizer = byteTokenizer();
  return Int32Array.from(documents.flatMap((text) => [...tokenizer.encode(text), tokenizer.eosId]));
}

function years(addresses: readonly Address[]): string {
  if (addresses.length === 0) return 'none';
  const sorted = addresses.map((a) => a.year).sort((a, b) => a - b);
  return `${addresses.length} addresses, ${sorted[0]}–${sorted[sorted.length - 1]} (median ${sorted[Math.floor(sorted.length / 2)]})`;
}

/** A noisy corpus: prose pieces interleaved with e-mails so that e-mail stays near a share of its tokens. */
export interface NoisyCorpus {
  /** Token ids (documents separated by EOS). */
  tokens: Int32Array;
  /** Per token: 0 prose, 1 e-mail. */
  source: Uint8Array;
  /** Prose pieces and e-mails used. */
  proseDocuments: number;
  emailDocuments: number;
}

/** Interleaves `prose` and `mail` (each taken in order) until `bytes` tokens, e-mail near `emailShare` of them. */
function interleave(
  prose: readonly string[],
  mail: readonly string[],
  bytes: number,
  emailShare: number,
): NoisyCorpus {
  const tokens: number[] = [];
  const source: number[] = [];
  let [proseIndex, mailIndex, emailTokens] = [0, 0, 0];
  while (tokens.length < bytes) {
    const wantEmail = emailTokens < emailShare * tokens.length;
    const text = wantEmail ? mail[mailIndex++] : prose[proseIndex++];
    if (text === undefined) break;
    const ids = tokenize([text]);
    for (const id of ids) tokens.push(id);
    for (let i = 0; i < ids.length; i++) source.push(wantEmail ? 1 : 0);
    if (wantEmail) emailTokens += ids.length;
  }
  return {
    tokens: Int32Array.from(tokens),
    source: Uint8Array.from(source),
    proseDocuments: proseIndex,
    emailDocuments: mailIndex,
  };
}

/** The target-domain splits, the prose left for noisy corpora, and the addresses each drew from. */
async function targetSplits(sizes: FairCorpusSizes, seed: number) {
  const pool = shuffled(await readAddresses(), seed);
  const heldOut = takePieces(pool, sizes.heldOut, sizes.pieceBytes);
  const validation = takePieces(pool, sizes.validation, sizes.pieceBytes);
  const reference = takePieces(pool, sizes.reference, sizes.pieceBytes);
  // Piece i of every address before piece i + 1 of any: the prose spans the eras too.
  const piecesByAddress = pool.map((address) => {
    const pieces: string[] = [];
    for (let rest = address.text; rest.length > 0; ) {
      const next = piece(rest, sizes.pieceBytes);
      pieces.push(next);
      rest = rest.slice(next.length);
    }
    return pieces;
  });
  const longest = Math.max(0, ...piecesByAddress.map((pieces) => pieces.length));
  const prose = Array.from({ length: longest }, (_, i) =>
    piecesByAddress.flatMap((pieces) => (pieces[i] === undefined ? [] : [pieces[i]!])),
  ).flat();
  return {
    reference: tokenize(reference.map((a) => a.text)),
    validation: tokenize(validation.map((a) => a.text)),
    heldOut: tokenize(heldOut.map((a) => a.text)),
    prose,
    addresses: {
      reference: reference.map((a) => a.name),
      validation: validation.map((a) => a.name),
      heldOut: heldOut.map((a) => a.name),
      noisy: pool.map((a) => a.name),
    },
    description: {
      reference: years(reference),
      validation: years(validation),
      heldOut: years(heldOut),
    },
  };
}

const EMAIL_DESCRIPTION = 'raw e-mails (SpamAssassin spam-2 and easy-ham-1, headers included)';

/**
 * Builds the splits. Addresses are shuffled with `seed` (so every split spans the eras); the
 * held-out, validation and reference sets take a piece of `pieceBytes` from each address they
 * draw, in that order; the addresses left over, cut into pieces of the same size, are the noisy
 * corpus's prose, interleaved with e-mails so that e-mail stays near `emailShare` of its tokens
 * all along. No address is in two splits.
 */
export async function buildFairCorpus(sizes: FairCorpusSizes, seed: number): Promise<FairCorpus> {
  const splits = await targetSplits(sizes, seed);
  const mail = await readEmails(Math.ceil((sizes.noisy * sizes.emailShare) / 2000));
  const noisy = interleave(splits.prose, mail, sizes.noisy, sizes.emailShare);
  return {
    reference: splits.reference,
    validation: splits.validation,
    heldOut: splits.heldOut,
    noisy: noisy.tokens,
    noisySource: noisy.source,
    addresses: splits.addresses,
    description: {
      ...splits.description,
      noisyProse: `${noisy.proseDocuments} pieces of the other ${splits.addresses.noisy.length} addresses`,
      noisyEmail: `${noisy.emailDocuments} ${EMAIL_DESCRIPTION}`,
      emailShareOfNoisyTokens: noisy.source.reduce((a, b) => a + b, 0) / noisy.tokens.length,
    },
  };
}

/** The study's splits: one reference, validation and held-out set, and one noisy corpus per e-mail share. */
export interface StudyCorpus extends Omit<FairCorpus, 'noisy' | 'noisySource'> {
  /** One noisy corpus per level, in the order of the shares asked for. */
  levels: (NoisyCorpus & { emailShare: number; proseTokens: number })[];
}

/**
 * The study's splits (see {@link buildFairCorpus}) with a noisy corpus of `sizes.noisy` tokens at
 * each of `emailShares`, all drawing the same prose pieces and e-mails in the same order (a
 * lower share uses more of the prose). `sizes.emailShare` is not used.
 *
 * @throws {SLMError} `BAD_OPTION` when the reference set is more than a tenth of a level's prose
 */
export async function buildStudyCorpus(
  sizes: FairCorpusSizes,
  emailShares: readonly number[],
  seed: number,
): Promise<StudyCorpus> {
  const splits = await targetSplits(sizes, seed);
  const mail = await readEmails(Math.ceil((sizes.noisy * Math.max(...emailShares)) / 2000));
  const levels = emailShares.map((emailShare) => {
    const noisy = interleave(splits.prose, mail, sizes.noisy, emailShare);
    const proseTokens = noisy.source.length - noisy.source.reduce((a, b) => a + b, 0);
    if (splits.reference.length * 10 > proseTokens)
      throw new SLMError(
        'BAD_OPTION',
        `study corpus: the reference set (${splits.reference.length} tokens) must be at most a tenth of the prose in the noisy corpus at e-mail share ${emailShare} (${proseTokens} tokens)`,
      );
    return { ...noisy, emailShare, proseTokens };
  });
  return {
    reference: splits.reference,
    validation: splits.validation,
    heldOut: splits.heldOut,
    levels,
    addresses: splits.addresses,
    description: {
      ...splits.description,
      noisyProse: `pieces of the other ${splits.addresses.noisy.length} addresses`,
      noisyEmail: EMAIL_DESCRIPTION,
    },
  };
}
