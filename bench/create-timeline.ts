// Where LlamaModel.create's time goes on the tensorflow backend, with the ziggurat sampler: the
// reserve of TensorFlow's memory, then the draw and copy of every weight, split into the main
// thread's waits for the sampling workers and its copies into TensorFlow (the steps of create,
// timed one by one). Run: node --import tsx bench/create-timeline.ts [preset] (default tinyllama-1.1b)
import * as tf from '@tensorflow/tfjs';
import { elementCount } from '../src/core/shape.js';
import { type LlamaPresetName, resolveLlamaConfig } from '../src/model/config.js';
import { normalStreams } from '../src/model/normalStreams.js';
import { parameterCount, parameterTable } from '../src/model/parameterTable.js';
import { useBackend } from '../src/tfjs/backend.js';
import { reserveNativeMemory, transientTensor, writeToNative } from '../src/tfjs/nativeBackend.js';

await useBackend('tensorflow');
const table = parameterTable(resolveLlamaConfig((process.argv[2] ?? 'tinyllama-1.1b') as LlamaPresetName));
// In create's order: the largest first.
const matrices = table
  .filter((spec) => spec.shape.length > 1)
  .sort((a, b) => elementCount(b.shape) - elementCount(a.shape));
const seconds = (from: number) => ((performance.now() - from) / 1000).toFixed(2);

let start = performance.now();
reserveNativeMemory(parameterCount(table));
const reserve = seconds(start);
start = performance.now();
let waiting = 0;
let copying = 0;
const weights: tf.Variable[] = [];
const samples = normalStreams(
  matrices.map((spec, i) => ({ count: elementCount(spec.shape), seed: i + 1 })),
  0.02,
  { sampler: 'ziggurat' },
);
for (const spec of matrices) {
  let at = performance.now();
  const values = samples.next().value as Float32Array;
  waiting += performance.now() - at;
  at = performance.now();
  const initial = transientTensor(values, spec.shape);
  const weight = tf.variable(initial, true);
  writeToNative(weight);
  initial.dispose();
  weights.push(weight);
  copying += performance.now() - at;
}
samples.return(undefined);
console.log(
  `reserve ${reserve} s; draw and copy ${seconds(start)} s, of which waiting for the workers ${(waiting / 1000).toFixed(2)} s and copying ${(copying / 1000).toFixed(2)} s`,
);
tf.dispose(weights);
