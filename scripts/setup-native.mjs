#!/usr/bin/env node
// Sets up the native `tensorflow` backend (@tensorflow/tfjs-node) in this repository, run by
// `npm ci`/`npm install` through the `prepare` script. npm blocks dependencies' install scripts,
// so tfjs-node arrives without libtensorflow and without its compiled binding; this script:
//   1. does nothing when the binding already loads;
//   2. runs tfjs-node's own installer (official libtensorflow 2.9.1 and a prebuilt addon from
//      Google storage) when those hosts answer;
//   3. otherwise takes libtensorflow from the `tensorflow-cpu` wheel of pip's package index
//      (`pip download`, no install), lays it out as the official tarball would be, and lets the
//      installer build the addon with the machine's g++ (≈20 s);
//   4. checks the result by loading the binding in a child process.
// The libraries and the built addon are cached in .cache/native, so a warm `npm ci` takes seconds.
// Any failure prints one line and exits 0: rho-slm then falls back to wasm. Opt out with
// RHO_SLM_NATIVE=0; make a failure fatal (CI) with RHO_SLM_NATIVE=require.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WHEEL = 'tensorflow-cpu==2.21.0';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packageDir = join(root, 'node_modules', '@tensorflow', 'tfjs-node');
const cache = join(root, '.cache', 'native');
const libCache = join(cache, 'tensorflow-cpu-2.21.0');
const depsLib = join(packageDir, 'deps', 'lib');
// The addon's folder (lib/napi-vN) and a copy of it built for this Node.js ABI.
const addonDir = join(packageDir, 'lib');
const addonCache = join(cache, `tfjs-node-addon-node${process.versions.modules}`);
const mode = process.env.RHO_SLM_NATIVE ?? 'auto';

function log(line) {
  console.log(`setup-native: ${line}`);
}

/** Whether `@tensorflow/tfjs-node` loads and runs a matMul, in a fresh process. */
function bindingLoads() {
  const probe = spawnSync(
    process.execPath,
    ['-e', "const tf=require('@tensorflow/tfjs-node');tf.matMul(tf.ones([2,2]),tf.ones([2,2])).dataSync();"],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  return probe.status === 0
    ? undefined
    : (probe.stderr || probe.error?.message || 'no output').trim().split('\n')[0];
}

/** Node's own headers beside its binary (Debian's nodejs), so node-gyp needs no download. */
function localNodeDir() {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: prefix } : {};
}

/** Runs tfjs-node's installer (node-pre-gyp from this repository's node_modules/.bin); returns whether it exited 0. */
function runInstaller(env) {
  const run = spawnSync(process.execPath, ['scripts/install.js'], {
    cwd: packageDir,
    env: {
      ...process.env,
      PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}`,
      ...localNodeDir(),
      ...env,
    },
    encoding: 'utf8',
    timeout: 600_000,
  });
  return run.status === 0;
}

/** Hard-links `from` to `to` (same file system) or copies it. */
function place(from, to) {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** Extracts libtensorflow and its C headers from the pip wheel into the cache, once. */
function extractWheel() {
  if (existsSync(join(libCache, 'lib', 'libtensorflow_cc.so.2'))) return;
  const download = join(cache, 'wheel');
  mkdirSync(download, { recursive: true });
  execFileSync('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '-d', download, WHEEL], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
  const wheel = readdirSync(download).find((name) => name.endsWith('.whl'));
  if (wheel === undefined) throw new Error(`pip download ${WHEEL} left no wheel`);
  const staging = `${libCache}.partial`;
  rmSync(staging, { recursive: true, force: true });
  // The official tarball's layout: lib/ with the two libraries, include/ with the C API headers.
  const extract = `
import sys, zipfile, os, shutil
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            target = os.path.join(out, 'lib', os.path.basename(name))
        elif name.startswith('tensorflow/include/') and name.endswith('.h') and (
            name.startswith('tensorflow/include/tensorflow/c/') or 'ctstring' in name or name.endswith('tsl_status.h')):
            target = os.path.join(out, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as source, open(target, 'wb') as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
`;
  execFileSync('python3', ['-c', extract, join(download, wheel), staging], { timeout: 300_000 });
  rmSync(libCache, { recursive: true, force: true });
  execFileSync('mv', [staging, libCache]);
  rmSync(download, { recursive: true, force: true }); // the wheel (270 MB) is not needed any more
}

/** Lays the cached wheel libraries out where tfjs-node's installer and binding expect them. */
function layOutDeps() {
  const deps = join(packageDir, 'deps');
  rmSync(deps, { recursive: true, force: true });
  mkdirSync(depsLib, { recursive: true });
  for (const name of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'])
    place(join(libCache, 'lib', name), join(depsLib, name));
  symlinkSync('libtensorflow_cc.so.2', join(depsLib, 'libtensorflow.so.2.9.1'));
  symlinkSync('libtensorflow_cc.so.2', join(depsLib, 'libtensorflow.so'));
  symlinkSync('libtensorflow_framework.so.2', join(depsLib, 'libtensorflow_framework.so'));
  execFileSync('cp', ['-r', join(libCache, 'include'), join(deps, 'include')]);
}

function fromWheel() {
  extractWheel();
  layOutDeps();
  if (existsSync(addonCache)) {
    rmSync(addonDir, { recursive: true, force: true });
    execFileSync('cp', ['-r', addonCache, addonDir]);
    if (bindingLoads() === undefined)
      return 'libtensorflow from the tensorflow-cpu 2.21.0 wheel, cached addon';
  }
  // The installer finds deps/lib, skips its download and builds the addon (the prebuilt fetch fails).
  if (!runInstaller({})) throw new Error('addon build failed');
  const failure = bindingLoads();
  if (failure !== undefined) throw new Error(failure);
  rmSync(addonCache, { recursive: true, force: true });
  execFileSync('cp', ['-r', addonDir, addonCache]);
  return 'libtensorflow from the tensorflow-cpu 2.21.0 wheel, addon built here';
}

function main() {
  if (mode === '0') return log('skipped (RHO_SLM_NATIVE=0); rho-slm will use wasm');
  if (!existsSync(packageDir)) return log('@tensorflow/tfjs-node is not installed; rho-slm will use wasm');
  if (bindingLoads() === undefined) return log('native tensorflow backend ready');
  mkdirSync(cache, { recursive: true });
  let how;
  if (runInstaller({}) && bindingLoads() === undefined) {
    how = existsSync(join(depsLib, 'libtensorflow_cc.so.2'))
      ? 'libtensorflow from the wheel, already in place'
      : 'official download';
  } else {
    how = fromWheel();
  }
  log(`native tensorflow backend ready (${how})`);
}

try {
  main();
} catch (error) {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const line = `could not set up the native tensorflow backend (${reason}); rho-slm will use wasm`;
  if (mode === 'require') {
    console.error(`setup-native: ${line}`);
    process.exit(1);
  }
  log(line);
}
