#!/usr/bin/env bash
# Packs the built package, installs the tarball into a temporary project, and calls
# selectiveLoss through both `import` and `require`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# npm pack runs the `prepack` script (the build), so a fresh clone packs dist too.
tarball=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)
cd "$work"
contents=$(tar -tzf "$tarball")
for built in dist/index.js dist/index.cjs dist/index.d.ts dist/cli.js dist/browser/model.js dist/browser/data.js LICENSE; do
  grep -qx "package/$built" <<<"$contents" || { echo "check-package: $built is missing from $tarball"; exit 1; }
done
# No install-time scripts in the published manifest (npm warns about them on install).
tar -xzf "$tarball" package/package.json
node -e "const s=require('./package/package.json').scripts??{};const bad=['preinstall','install','postinstall','prepare'].filter(k=>k in s);if(bad.length){console.error('check-package: install scripts in the published package.json: '+bad.join(', '));process.exit(1)}"
rm -rf package
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "./$tarball" @tensorflow/tfjs@4.22.0

cat > esm.mjs <<'JS'
import { selectiveLoss, SLMError } from 'rho-slm';
const result = selectiveLoss({ modelLoss: [3, 1, 2, 5], refLoss: [1, 1, 1, 1], ratio: 0.5 });
if (result.loss !== 4 || result.selected !== 2) throw new Error(`ESM: unexpected ${JSON.stringify(result)}`);
try { selectiveLoss({ modelLoss: [1], refLoss: [1], ratio: 2 }); throw new Error('no error'); }
catch (error) { if (!(error instanceof SLMError) || error.code !== 'BAD_RATIO') throw error; }
console.log('ESM import ok: loss', result.loss);
const tf = await import('@tensorflow/tfjs');
const tfjs = await import('rho-slm/tfjs');
tfjs.silenceNodeBanner();
const out = tfjs.selectiveLoss(tf.tensor2d([[0, 2], [1, 0]]), [1, -100], [0.1, 0.2], { ratio: 1 });
const loss = (await out.loss.data())[0];
if (Math.abs(loss - Math.log1p(Math.exp(-2))) > 1e-6) throw new Error(`ESM tfjs: unexpected loss ${loss}`);
try { tfjs.topKMask(tf.zeros([2]), { ratio: 3 }); throw new Error('no error'); }
catch (error) { if (!(error instanceof SLMError)) throw new Error('rho-slm/tfjs throws a different SLMError class than rho-slm'); }
console.log('ESM import of rho-slm/tfjs ok: loss', loss);
for (const subpath of ['model', 'data', 'pipeline', 'eval']) {
  const module = await import(`rho-slm/${subpath}`);
  if (module.SLMError !== SLMError) throw new Error(`rho-slm/${subpath} exports a different SLMError`);
}
console.log('ESM import of rho-slm/model, /data, /pipeline, /eval ok');
JS
cat > cjs.cjs <<'JS'
const { selectiveLoss } = require('rho-slm');
const result = selectiveLoss({ modelLoss: [3, 1, 2, 5], refLoss: [1, 1, 1, 1], ratio: 0.5 });
if (result.loss !== 4 || result.selected !== 2) throw new Error(`CJS: unexpected ${JSON.stringify(result)}`);
console.log('CJS require ok: loss', result.loss);
const tf = require('@tensorflow/tfjs');
const tfjs = require('rho-slm/tfjs');
tfjs.silenceNodeBanner();
const out = tfjs.selectiveLoss(tf.tensor2d([[0, 2], [1, 0]]), [1, -100], [0.1, 0.2], { ratio: 1 });
if (Math.abs(out.loss.dataSync()[0] - Math.log1p(Math.exp(-2))) > 1e-6) throw new Error('CJS tfjs: unexpected loss');
try { tfjs.topKMask(tf.zeros([2]), { ratio: 3 }); throw new Error('no error'); }
catch (error) { if (!(error instanceof require('rho-slm').SLMError)) throw new Error('CJS: two SLMError classes'); }
console.log('CJS require of rho-slm/tfjs ok');
for (const subpath of ['model', 'data', 'pipeline', 'eval']) {
  if (require(`rho-slm/${subpath}`).SLMError !== require('rho-slm').SLMError) throw new Error(`CJS rho-slm/${subpath}: another SLMError`);
}
console.log('CJS require of rho-slm/model, /data, /pipeline, /eval ok');
JS
for script in esm.mjs cjs.cjs; do
  output=$(node "$script" 2>&1) || { echo "$output"; exit 1; }
  echo "$output"
  if grep -q "looks like you are running TensorFlow.js in Node" <<<"$output"; then
    echo "check-package: silenceNodeBanner() let the tfjs-node banner through ($script)"; exit 1
  fi
done
npx --no-install rho-slm --version
echo "package contents:"
sed 's/^/  /' <<<"$contents"
