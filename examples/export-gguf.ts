// Exporting to GGUF for llama.cpp: a model trained with rho-slm, written as GGUF v3 (F32) with
// llama.cpp's tensor names and rotary layout. Load it with llama.cpp or node-llama-cpp.
// Run: npx tsx examples/export-gguf.ts
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportGguf, LlamaModel } from 'rho-slm/model';
import { useBackend } from 'rho-slm/tfjs';

await useBackend('wasm');
const model = LlamaModel.create('nano', { seed: 1 }); // or: await LlamaModel.load('checkpoints/slm')
const directory = await mkdtemp(join(tmpdir(), 'rho-slm-gguf-'));
const path = join(directory, 'nano.gguf');
await exportGguf(model, path);
const bytes = await readFile(path);
console.log(
  `${path}: ${bytes.length} bytes, magic ${bytes.toString('ascii', 0, 4)}, version ${bytes.readUInt32LE(4)}, ${bytes.readBigUInt64LE(8)} tensors`,
);
model.dispose();
await rm(directory, { recursive: true, force: true });
