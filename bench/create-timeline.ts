// Where LlamaModel.create's time goes on the tensorflow backend, with the ziggurat sampler: the
// reserve of TensorFlow's memory, then the draw and placement of every weight, split into the main
// thread's waits for the sampling workers and its writes of their pieces into TensorFlow (the steps
// of create, timed one by one). Run: node --import tsx bench/create-timeline.ts [preset] (default tinyllama-1.1b)
import * as tf from '@tensorflow/tfjs';
import { type LlamaPresetName, resolveLlamaConfig } from '../src/model/config.js';
import { drawnWeights, internalShape } from '../src/model/llama.js';
import { normalPieces } from '../src/model/normalStreams.js';
import { parameterCount, parameterTable } from '../src/model/parameterTable.js';
import { useBackend } from '../src/tfjs/backend.js';
import { reserveNativeMemory } from '../src/tfjs/nativeBackend.js';
import { type PiecewiseTensor, piecewiseTensor } from '../src/tfjs/piecewiseTensor.js';

await useBackend('tensorflow');
const table = parameterTable(resolveLlamaConfig((process.argv[2] ?? 'tinyllama-1.1b') as LlamaPresetName));
// In create's order (the largest first) and layout (projections transposed, [in, out]).
const shapes = drawnWeights(table).map(internalShape);
const seconds = (from: number) => ((performance.now() - from) / 1000).toFixed(2);

let start = performance.now();
reserveNativeMemory(parameterCount(table));
const reserve = seconds(start);
start = performance.now();
let waiting = 0;
let writing = 0;
const weights: tf.Variable[] = [];
const pieces = normalPieces(
  shapes.map(([rows, cols], i) => ({ rows: rows!, cols: cols!, seed: i + 1 })),
  0.02,
  { sampler: 'ziggurat' },
);
let pending: PiecewiseTensor | undefined;
for (;;) {
  let at = performance.now();
  const next = pieces.next();
  waiting += performance.now() - at;
  if (next.done === true) break;
  const { job, index, pieces: count, values } = next.value;
  at = performance.now();
  if (index === 0) pending = piecewiseTensor(shapes[job]!, count);
  pending!.write(index, values);
  if (index === count - 1) weights.push(tf.variable(pending!.finish(), true));
  writing += performance.now() - at;
}
console.log(
  `reserve ${reserve} s; draw and write ${seconds(start)} s, of which waiting for the workers ${(waiting / 1000).toFixed(2)} s and writing pieces into TensorFlow ${(writing / 1000).toFixed(2)} s`,
);
tf.dispose(weights);
