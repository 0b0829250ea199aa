// Pipeline benchmarks: prepare MB/s, scoring tokens/s of the demo model, and the cost of reading
// reference scores during selective training relative to a training step.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ScoreFile } from '../src/data/scoreFile.js';
import { LlamaModel } from '../src/model/index.js';
import { prepareCorpus, scoreCorpus } from '../src/pipeline/index.js';
import { createTrainStep } from '../src/tfjs/index.js';
import { fmt } from './timing.js';

/** Prints the pipeline benchmark table and returns its figures. */
export async function benchPipeline(): Promise<Record<string, number>> {
  const directory = await mkdtemp(join(tmpdir(), 'rho-slm-bench-pipeline-'));
  try {
    const paragraph =
      'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. ';
    const text = paragraph.repeat(Math.ceil(16e6 / paragraph.length));
    await writeFile(join(directory, 'big.txt'), text);
    let start = performance.now();
    await prepareCorpus({ inputs: [join(directory, 'big.txt')], out: join(directory, 'big.tok') });
    const prepareRate = Buffer.byteLength(text) / 1e6 / ((performance.now() - start) / 1000);

    await writeFile(join(directory, 'small.txt'), paragraph.repeat(70));
    await prepareCorpus({ inputs: [join(directory, 'small.txt')], out: join(directory, 'small.tok') });
    const model = LlamaModel.create('demo', { seed: 1 });
    start = performance.now();
    const info = await scoreCorpus({
      model,
      data: join(directory, 'small.tok'),
      out: join(directory, 'small.scores'),
    });
    const scoreRate = (info!.partWindows * info!.seqLen) / ((performance.now() - start) / 1000);

    const [batch, seqLen] = [8, 128];
    const scores = await ScoreFile.open(join(directory, 'small.scores'));
    const reads = 50;
    start = performance.now();
    for (let i = 0; i < reads; i++) {
      for (let row = 0; row < batch; row++) await scores.read((i * batch + row) % info!.partWindows, 1);
    }
    const readMs = (performance.now() - start) / reads;
    await scores.close();
    const step = createTrainStep({ model, optimizer: tf.train.adam(1e-3), selective: { ratio: 0.6 } });
    const inputs = tf.randomUniform([batch, seqLen], 0, 259, 'int32', 1);
    const refLoss = tf.fill([batch, seqLen], 3);
    await step({ inputs, labels: inputs, refLoss });
    start = performance.now();
    for (let i = 0; i < 3; i++) await step({ inputs, labels: inputs, refLoss });
    const stepMs = (performance.now() - start) / 3;
    tf.dispose([inputs, refLoss]);
    model.dispose();

    console.log('pipeline');
    console.log(`  prepare (byte tokenizer, 16 MB of text)      ${fmt(prepareRate)} MB/s`);
    console.log(
      `  score (demo model, ${info!.partWindows} windows of ${info!.seqLen})        ${fmt(scoreRate)} tokens/s`,
    );
    console.log(
      `  reading reference scores for a batch         ${fmt(readMs)} ms = ${fmt((100 * readMs) / stepMs)}% of a ${fmt(stepMs)} ms SLM step (target < 2%)`,
    );
    return { prepareRate, scoreRate, scoreReadShare: readMs / stepMs };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
