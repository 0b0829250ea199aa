// Bundles playground/main.ts for the browser into one self-contained page, docs/playground/
// index.html (generated, not committed), with the wasm backend's binaries inlined; typedoc then copies it into the site. Node built-ins, used only by
// file-system code the page never calls, are replaced by empty modules.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const wasmDirectory = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
const wasmBase64 = async (name) => (await readFile(`${wasmDirectory}/${name}`)).toString('base64');

const result = await build({
  entryPoints: ['playground/main.ts'],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  logLevel: 'warning',
  plugins: [
    {
      // The wasm backend's binaries inside the page, so it trains on wasm from any static host.
      name: 'wasm-binaries',
      setup(builder) {
        builder.onResolve({ filter: /^virtual:wasm-binaries$/ }, (args) => ({
          path: args.path,
          namespace: 'wasm',
        }));
        builder.onLoad({ filter: /.*/, namespace: 'wasm' }, async () => ({
          contents: `export const WASM_SIMD = ${JSON.stringify(await wasmBase64('tfjs-backend-wasm-simd.wasm'))};
export const WASM_PLAIN = ${JSON.stringify(await wasmBase64('tfjs-backend-wasm.wasm'))};`,
          loader: 'js',
        }));
      },
    },
    {
      name: 'no-node-builtins',
      setup(builder) {
        builder.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
        builder.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
          contents: 'module.exports = {};',
          loader: 'js',
        }));
      },
    },
  ],
});
const script = result.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rho-slm playground: SLM vs CLM in your browser</title>
<style>
body { font: 15px/1.6 system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; }
#tokens p { font-family: ui-monospace, monospace; }
.token { padding: 1px 0; } .selected { outline: 2px solid #222; outline-offset: -1px; }
.legend span { display: inline-block; padding: 0 .5rem; margin-right: .5rem; }
</style></head><body>
<h1>SLM vs CLM and random selection, trained in this page</h1>
<p>The <code>nano</code> Llama model (35 k parameters) on the <strong id="backend">…</strong> backend. One short text is the target
domain: its sentences are dealt into a reference set, a held-out set and the prose of a noisy corpus (half noise). A reference model
learns the reference set and scores the noisy corpus; then plain CLM, SLM (top 60% by excess loss) and random selection (60% of tokens)
train side by side from the same start. Held-out loss: CLM <strong id="loss-clm">–</strong>, SLM <strong id="loss-slm">–</strong>,
random <strong id="loss-random">–</strong>. A toy: one run, seconds of training; <code>npm run study</code> is the evidence.</p>
<p id="status">loading…</p>
<div id="chart"></div>
<h2>A window of the noisy corpus, by excess loss</h2>
<div id="tokens"></div>
<script>${script}</script>
</body></html>
`;
await mkdir('docs/playground', { recursive: true });
await writeFile('docs/playground/index.html', html);
console.log(`docs/playground/index.html: ${(html.length / 1e6).toFixed(1)} MB`);
