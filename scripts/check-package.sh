#!/usr/bin/env bash
# Packs the built package, installs the tarball into a temporary project, and calls
# selectiveLoss through both `import` and `require`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "./$tarball"

cat > esm.mjs <<'JS'
import { selectiveLoss, SLMError } from 'rho-slm';
const result = selectiveLoss({ modelLoss: [3, 1, 2, 5], refLoss: [1, 1, 1, 1], ratio: 0.5 });
if (result.loss !== 4 || result.selected !== 2) throw new Error(`ESM: unexpected ${JSON.stringify(result)}`);
try { selectiveLoss({ modelLoss: [1], refLoss: [1], ratio: 2 }); throw new Error('no error'); }
catch (error) { if (!(error instanceof SLMError) || error.code !== 'BAD_RATIO') throw error; }
console.log('ESM import ok: loss', result.loss);
JS
cat > cjs.cjs <<'JS'
const { selectiveLoss } = require('rho-slm');
const result = selectiveLoss({ modelLoss: [3, 1, 2, 5], refLoss: [1, 1, 1, 1], ratio: 0.5 });
if (result.loss !== 4 || result.selected !== 2) throw new Error(`CJS: unexpected ${JSON.stringify(result)}`);
console.log('CJS require ok: loss', result.loss);
JS
node esm.mjs
node cjs.cjs
npx --no-install rho-slm --version
echo "package contents:"
tar -tzf "$tarball" | sed 's/^/  /'
