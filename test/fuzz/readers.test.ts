// Mutation fuzzing of every file format rho-slm reads (GGUF is only written): seeded bit flips,
// truncations, appended garbage, huge length fields, hostile JSON values. Every case must end in
// an SLMError naming the file, or read exactly what the unmutated file holds (or something that
// differs in a field readers compare); never another exception, a hang, or a silent difference.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadHuggingFaceTokenizer,
  ScoreFile,
  ScoreFileWriter,
  TOKEN_HEADER_SIZE,
  TokenFile,
  TokenFileWriter,
} from '../../src/data/index.js';
import { loadMathDataset } from '../../src/eval/index.js';
import { type LlamaConfig, LlamaModel } from '../../src/model/index.js';
import { prepareCorpus } from '../../src/pipeline/index.js';
import { activateBackend, testBackends } from '../helpers/backends.js';
import {
  appendGarbage,
  below,
  type Comparison,
  type FuzzReport,
  flipBits,
  fuzz,
  HOSTILE_VALUES,
  mutateJson,
  type Random,
  truncate,
} from '../helpers/fuzz.js';

/** Cases per format (the issue asks for at least 1,000). */
const CASES = Number(process.env.RHO_SLM_FUZZ_CASES ?? 1000);
const reports: Record<string, FuzzReport> = {};
let directory: string;

const TINY: LlamaConfig = {
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  intermediate_size: 16,
  vocab_size: 16,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 16,
  tie_word_embeddings: false,
};

beforeAll(async () => {
  await activateBackend(testBackends[0]!);
  directory = await mkdtemp(join(tmpdir(), 'rho-slm-fuzz-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
  for (const [format, report] of Object.entries(reports))
    console.log(
      `fuzz ${format}: ${CASES} cases, memory growth ≤ ${(report.memoryGrowth / 2 ** 20).toFixed(1)} MB`,
      JSON.stringify(report.outcomes),
    );
});

/** Asserts no failures, the case count, and at most 16 MB of memory still reachable after the cases. */
async function expectRobust(format: string, report: FuzzReport): Promise<void> {
  reports[format] = report;
  expect(report.failures.slice(0, 5)).toEqual([]);
  expect(Object.values(report.outcomes).reduce((a, b) => a + b, 0)).toBe(CASES);
  expect(report.memoryGrowth).toBeLessThan(16 << 20);
}

/** Writes a case's bytes to `path` and returns it. */
const writeTo = (path: string) => async (bytes: Buffer) => {
  await writeFile(path, bytes);
  return path;
};

/** Generic byte mutations; `header` is the byte range where structure lives. */
function mutateBytes(original: Buffer, random: Random, header: number): { name: string; bytes: Buffer } {
  const kind = below(random, 5);
  if (kind === 0)
    return { name: 'flip header bits', bytes: flipBits(original, random, 1 + below(random, 3), 0, header) };
  if (kind === 1) return { name: 'flip bits', bytes: flipBits(original, random, 1 + below(random, 4)) };
  if (kind === 2) return { name: 'truncate', bytes: truncate(original, random) };
  if (kind === 3) return { name: 'append garbage', bytes: appendGarbage(original, random) };
  const bytes = Buffer.from(original);
  bytes[below(random, bytes.length)] = below(random, 256);
  return { name: 'set a byte', bytes };
}

describe('checkpoints (safetensors + config.json)', () => {
  let checkpoint: string;
  let weights: Map<string, Float32Array>;
  let safetensors: Buffer;
  let config: Buffer;

  beforeAll(async () => {
    checkpoint = join(directory, 'checkpoint');
    const model = LlamaModel.create(TINY, { seed: 3 });
    await model.save(checkpoint);
    weights = new Map([...(await model.exportWeights())].map(([name, { data }]) => [name, data]));
    model.dispose();
    safetensors = await readFile(join(checkpoint, 'model.safetensors'));
    config = await readFile(join(checkpoint, 'config.json'));
  });

  /** The bytes a typed array views (not its whole buffer). */
  const bytesOf = (values: Float32Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

  const compareModel = async (model: LlamaModel): Promise<Comparison> => {
    const loaded = await model.exportWeights();
    const same =
      JSON.stringify(model.config) === JSON.stringify(TINY) &&
      [...weights].every(([name, data]) => bytesOf(loaded.get(name)!.data).equals(bytesOf(data)));
    model.dispose();
    return same ? 'identical' : 'silent';
  };

  /** Safetensors mutations, including header JSON rewritten with a hostile field and a fixed length. */
  function mutateSafetensors(random: Random) {
    const headerLength = Number(safetensors.readBigUInt64LE(0));
    const kind = below(random, 4);
    if (kind === 0) {
      const bytes = Buffer.from(safetensors);
      const huge = [2n ** 64n - 1n, 2n ** 53n, BigInt(safetensors.length), 1n, 0n][below(random, 5)]!;
      bytes.writeBigUInt64LE(huge, 0);
      return { name: `header length ${huge}`, bytes };
    }
    if (kind === 1) {
      const header = JSON.parse(safetensors.toString('utf8', 8, 8 + headerLength));
      const json = Buffer.from(JSON.stringify(mutateJson(header, random)));
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(json.length));
      return {
        name: 'header field',
        bytes: Buffer.concat([prefix, json, safetensors.subarray(8 + headerLength)]),
      };
    }
    return mutateBytes(safetensors, random, 8 + headerLength);
  }

  it(`${CASES} mutated model.safetensors files`, async () => {
    await writeFile(join(checkpoint, 'config.json'), config);
    const report = await fuzz({
      cases: CASES,
      seed: 1,
      mutate: mutateSafetensors,
      write: async (bytes) => {
        await writeFile(join(checkpoint, 'model.safetensors'), bytes);
        return join(checkpoint, 'model.safetensors');
      },
      read: () => LlamaModel.load(checkpoint),
      compare: compareModel,
    });
    await expectRobust('model.safetensors', report);
  }, 60_000);

  it(`${CASES} mutated config.json files`, async () => {
    await writeFile(join(checkpoint, 'model.safetensors'), safetensors);
    const parsed = JSON.parse(config.toString('utf8'));
    const report = await fuzz({
      cases: CASES,
      seed: 2,
      mutate: (random) =>
        random() < 0.6
          ? { name: 'config field', bytes: Buffer.from(JSON.stringify(mutateJson(parsed, random))) }
          : mutateBytes(config, random, config.length),
      write: async (bytes) => {
        await writeFile(join(checkpoint, 'config.json'), bytes);
        return join(checkpoint, 'config.json');
      },
      read: () => LlamaModel.load(checkpoint),
      compare: compareModel,
    });
    await expectRobust('config.json', report);
  }, 60_000);
});

/** A header field of a binary file set to `value` (u32 or u64 at `offset`), its CRC recomputed or not. */
function setHeaderField(original: Buffer, headerSize: number, random: Random) {
  const bytes = Buffer.from(original);
  const offset = 12 + 4 * below(random, (headerSize - 16) / 4);
  const value = [0, 1, 2, 0xffffffff, 0x80000000, 65537][below(random, 6)]!;
  bytes.writeUInt32LE(value, offset);
  const fixCrc = random() < 0.7;
  if (fixCrc) bytes.writeUInt32LE(crc32(bytes.subarray(0, headerSize - 4)), headerSize - 4);
  return { name: `header word at ${offset} = ${value}${fixCrc ? ' (CRC fixed)' : ''}`, bytes };
}

describe('token and score files', () => {
  it(`${CASES} mutated token files`, async () => {
    const path = join(directory, 'corpus.tok');
    const writer = await TokenFileWriter.create(path, {
      vocabSize: 259,
      eosId: 2,
      tokenizer: 'rho-slm/byte/v1',
    });
    for (let document = 0; document < 4; document++)
      await writer.append(Array.from({ length: 20 + document }, (_, i) => 3 + ((i * 37 + document) % 256)));
    await writer.close();
    const original = await readFile(path);
    const headerSize = TOKEN_HEADER_SIZE;
    const file = await TokenFile.open(path);
    const info = { ...file.info };
    const tokens = await file.read(0, info.tokenCount);
    await file.close();
    const report = await fuzz({
      cases: CASES,
      seed: 3,
      mutate: (random) =>
        random() < 0.35
          ? setHeaderField(original, headerSize, random)
          : mutateBytes(original, random, headerSize),
      write: writeTo(path),
      read: async () => {
        const opened = await TokenFile.open(path);
        try {
          await opened.verify();
          return { info: { ...opened.info }, tokens: await opened.read(0, opened.info.tokenCount) };
        } finally {
          await opened.close();
        }
      },
      compare: (read) => {
        const sameTokens = Buffer.from(read.tokens.buffer).equals(Buffer.from(tokens.buffer));
        if (JSON.stringify(read.info) !== JSON.stringify(info)) return 'visible';
        return sameTokens ? 'identical' : 'silent';
      },
    });
    await expectRobust('token file', report);
  }, 60_000);

  it(`${CASES} mutated score files`, async () => {
    const path = join(directory, 'corpus.scores');
    const plan = {
      bytesPerScore: 2 as const,
      seqLen: 4,
      windowCount: 6,
      firstWindow: 0,
      partWindows: 6,
      tokenFileCrc: 77,
      tokenCount: 25,
      model: 'llama-1-00000000',
    };
    const writer = await ScoreFileWriter.open(path, plan);
    await writer.append(Float32Array.from({ length: 24 }, (_, i) => i / 3));
    await writer.close();
    const original = await readFile(path);
    const headerSize = original.length - 24 * 2;
    const read = async () => {
      const opened = await ScoreFile.open(path);
      try {
        await opened.verify();
        const { firstWindow, partWindows } = opened.info;
        return { info: { ...opened.info }, scores: await opened.read(firstWindow, partWindows) };
      } finally {
        await opened.close();
      }
    };
    const expected = await read();
    const report = await fuzz({
      cases: CASES,
      seed: 4,
      mutate: (random) =>
        random() < 0.35
          ? setHeaderField(original, headerSize, random)
          : mutateBytes(original, random, headerSize),
      write: writeTo(path),
      read,
      compare: (result) => {
        if (JSON.stringify(result.info) !== JSON.stringify(expected.info)) return 'visible';
        return Buffer.from(result.scores.buffer).equals(Buffer.from(expected.scores.buffer))
          ? 'identical'
          : 'silent';
      },
    });
    await expectRobust('score file', report);
  }, 60_000);
});

describe('text formats', () => {
  it(`${CASES} mutated tokenizer.json files`, async () => {
    const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
    for (const piece of [...'abcdefghijklmnopqrstuvwxyz ', 'th', 'the'])
      vocab[piece] = Object.keys(vocab).length;
    const special = (id: number, content: string) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    const json = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        fuse_unk: false,
        byte_fallback: false,
        vocab,
        merges: ['t h', 'th e'],
      },
    };
    const folder = join(directory, 'tokenizer');
    await mkdir(folder, { recursive: true });
    const path = join(folder, 'tokenizer.json');
    const original = Buffer.from(JSON.stringify(json));
    await writeFile(path, original);
    const reference = await loadHuggingFaceTokenizer(path);
    const sample = 'the theta hat';
    const report = await fuzz({
      cases: CASES,
      seed: 5,
      mutate: (random) =>
        random() < 0.6
          ? { name: 'tokenizer field', bytes: Buffer.from(JSON.stringify(mutateJson(json, random))) }
          : mutateBytes(original, random, original.length),
      write: writeTo(path),
      read: async () => {
        const tokenizer = await loadHuggingFaceTokenizer(path);
        return { tokenizer, ids: tokenizer.encode(sample) };
      },
      compare: ({ tokenizer, ids }) => {
        if (tokenizer.fingerprint !== reference.fingerprint) return 'visible'; // token files record it
        const same =
          ids.join() === reference.encode(sample).join() && tokenizer.vocabSize === reference.vocabSize;
        return same ? 'identical' : 'silent';
      },
    });
    await expectRobust('tokenizer.json', report);
  }, 60_000);

  it(`${CASES} mutated JSONL files (prepare and math datasets)`, async () => {
    const path = join(directory, 'problems.jsonl');
    const records = [
      {
        question: 'Ada has 3 apples and buys 2. How many?',
        answer: '3 + 2 = 5\n#### 5',
        text: 'first document',
      },
      { question: 'Ben has 9 coins and gives 4 away.', answer: '9 - 4 = 5\n#### 5', text: 'second document' },
    ];
    const original = Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    const mutateLine = (random: Random) => {
      const lines = records.map((record) => JSON.stringify(record));
      const line = below(random, lines.length);
      lines[line] =
        random() < 0.7
          ? JSON.stringify(mutateJson(records[line], random))
          : JSON.stringify(HOSTILE_VALUES[below(random, HOSTILE_VALUES.length)]);
      return { name: `line ${line + 1}`, bytes: Buffer.from(`${lines.join('\n')}\n`) };
    };
    const out = join(directory, 'problems.tok');
    const report = await fuzz({
      cases: CASES,
      seed: 6,
      mutate: (random) =>
        random() < 0.6 ? mutateLine(random) : mutateBytes(original, random, original.length),
      write: writeTo(path),
      read: async () => {
        const examples = await loadMathDataset(path, 'gsm8k');
        const info = await prepareCorpus({ inputs: [path], out, force: true });
        return { examples, info };
      },
      // A JSONL file is the user's data: any well-formed result is a legitimate reading of it.
      compare: ({ examples, info }) =>
        examples.every(
          (example) => typeof example.question === 'string' && typeof example.answer === 'string',
        ) && info.documentCount >= 0
          ? 'visible'
          : 'silent',
    });
    await expectRobust('JSONL', report);
  }, 60_000);
});
