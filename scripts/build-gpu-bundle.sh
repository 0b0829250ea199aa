#!/usr/bin/env bash
# Builds the bundle that runs `bench webgpu` (bench/webgpu.ts) on a lent GPU machine that has no
# Node.js and no network: `bash scripts/build-gpu-bundle.sh [REPO]` writes REPO/.gpu/ (default: this
# checkout), which .git/info/exclude must ignore (with /.gl/, the loaders the device README says to
# download there), and prints its size. REPO/.gpu/ then holds:
#   bundle.tar.xz  rho-slm-gpu/: this node binary (official build: links only libc and libstdc++),
#                  bench.mjs (bench/index.ts bundled by esbuild, packages left external),
#                  pytorch_llama.py beside it, and the least node_modules it loads (the tfjs
#                  packages' Node entry files and wasm binaries, `webgpu` with linux-x64 Dawn only);
#   run.sh         scripts/gpu-bench.sh, the device command's script;
#   COMMAND.txt    the device command; CARRY.txt: the paths to carry.
# The code bundled is this checkout's; node_modules come from it too (npm ci first).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "${1:-$src}" && pwd)
dest=$repo/.gpu
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
bundle=$stage/rho-slm-gpu
modules=$bundle/node_modules
mkdir -p "$modules/@tensorflow" "$modules/webgpu/dist/linux-x64"

cd "$src"
node_modules/.bin/esbuild bench/index.ts --bundle --platform=node --format=esm --target=node20 \
  --packages=external --outfile="$bundle/bench.mjs" --log-level=warning
cp bench/pytorch_llama.py "$bundle/"

node=$(readlink -f "$(command -v node)")
if ldd "$node" | grep -vqE 'linux-vdso|ld-linux|lib(c|m|dl|pthread|stdc\+\+|gcc_s)\.so'; then
  echo "build-gpu-bundle: $node links libraries beyond libc/libstdc++; use an official Node build" >&2
  exit 1
fi
cp "$node" "$bundle/node"

# The tfjs packages as Node loads them: package.json and the CommonJS `main` file, which is one
# self-contained file per package; the wasm backend's binaries sit beside its main.
for name in tfjs tfjs-core tfjs-backend-cpu tfjs-backend-webgl tfjs-backend-wasm tfjs-backend-webgpu \
  tfjs-layers tfjs-converter tfjs-data; do
  from=node_modules/@tensorflow/$name
  main=$(node -p "require('./$from/package.json').main")
  mkdir -p "$modules/@tensorflow/$name/$(dirname "$main")"
  cp "$from/package.json" "$modules/@tensorflow/$name/"
  cp "$from/$main" "$modules/@tensorflow/$name/$main"
done
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$modules/@tensorflow/tfjs-backend-wasm/dist/"
# What those files require: seedrandom, long, node-fetch (whatwg-url, tr46, webidl-conversions),
# string_decoder (safe-buffer).
for name in seedrandom long node-fetch whatwg-url tr46 webidl-conversions string_decoder safe-buffer; do
  cp -r "node_modules/$name" "$modules/"
done
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$modules/webgpu/dist/linux-x64/"

mkdir -p "$dest"
rm -f "$dest/bundle.tar.xz"
XZ_OPT='-9 -T0' tar -cJf "$dest/bundle.tar.xz" -C "$stage" rho-slm-gpu
cp scripts/gpu-bench.sh "$dest/run.sh"
echo 'set -o pipefail; bash .gpu/run.sh 2>&1 | tee "$OUT/log.txt"' > "$dest/COMMAND.txt"
echo '[".gpu", ".gl"]' > "$dest/CARRY.txt"
echo "unpacked $(du -sb "$bundle" | cut -f1) bytes; packed:"
du -b "$dest"/*
