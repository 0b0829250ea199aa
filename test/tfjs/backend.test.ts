import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { SLMError } from '../../src/index.js';
import { useBackend } from '../../src/tfjs/index.js';

const missing = (specifier: string) => Promise.reject(new Error(`Cannot find package '${specifier}'`));

describe('useBackend', () => {
  afterAll(() => tf.setBackend('cpu'));

  it("'auto' falls back past missing packages and names why each was skipped", async () => {
    const choice = await useBackend('auto', {
      env: {},
      importModule: (specifier) =>
        specifier === '@tensorflow/tfjs-backend-wasm' ? import(specifier) : missing(specifier),
    });
    expect(choice.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.skipped.map((s) => s.backend)).toEqual(['tensorflow', 'webgpu']);
    expect(choice.skipped[0]!.reason).toMatch(
      /tfjs-node-gpu: Cannot find package.*tfjs-node: Cannot find package/,
    );
  });

  it('falls back to cpu when the wasm package is broken', async () => {
    const choice = await useBackend('auto', {
      env: {},
      importModule: (specifier) =>
        specifier === '@tensorflow/tfjs-backend-wasm'
          ? Promise.reject(new Error('wasm binary corrupt'))
          : missing(specifier),
    });
    expect(choice.backend).toBe('cpu');
    expect(choice.skipped.find((s) => s.backend === 'wasm')?.reason).toBe('wasm binary corrupt');
  });

  it("'auto' passes over a software WebGPU adapter (lavapipe), naming it", async () => {
    const hadNavigator = 'navigator' in globalThis;
    const fakeDawn = {
      create: () => ({
        requestAdapter: async () => ({ info: { description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }),
      }),
    };
    try {
      const choice = await useBackend('auto', {
        env: {},
        importModule: (specifier) =>
          specifier === 'webgpu'
            ? Promise.resolve(fakeDawn)
            : specifier === '@tensorflow/tfjs-backend-wasm'
              ? import(specifier)
              : missing(specifier),
      });
      expect(choice.backend).toBe('wasm');
      expect(choice.skipped.find((s) => s.backend === 'webgpu')?.reason).toMatch(
        /only a software adapter \(llvmpipe/,
      );
    } finally {
      if (!hadNavigator) Reflect.deleteProperty(globalThis, 'navigator');
    }
  });

  it.runIf(process.env.RHO_SLM_TEST_TENSORFLOW === '1')(
    "'auto' picks the native tensorflow backend when @tensorflow/tfjs-node loads",
    async () => {
      const choice = await useBackend('auto', { env: {} });
      expect(choice.backend).toBe('tensorflow');
      expect(tf.getBackend()).toBe('tensorflow');
    },
  );

  it('honours RHO_SLM_BACKEND over the preference', async () => {
    const choice = await useBackend('wasm', { env: { RHO_SLM_BACKEND: 'cpu' } });
    expect(choice).toEqual({ backend: 'cpu', skipped: [] });
  });

  it('throws BACKEND_UNAVAILABLE for a named backend that cannot load, and BAD_OPTION for an unknown name', async () => {
    const error = await useBackend('tensorflow', { env: {}, importModule: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SLMError);
    expect((error as SLMError).code).toBe('BACKEND_UNAVAILABLE');
    expect((error as SLMError).message).toMatch(/backend 'tensorflow'/);
    expect((error as SLMError).message).toMatch(/npm install @tensorflow\/tfjs-node/);
    await expect(useBackend('tpu' as never, { env: {} })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(useBackend('auto', { env: { RHO_SLM_BACKEND: 'gpu' } })).rejects.toThrow(/RHO_SLM_BACKEND/);
  });

  it('on wasm, an uncaught error prints its message and stack, not kilobytes of Emscripten source', () => {
    const root = join(import.meta.dirname, '../..');
    const script = `import { useBackend } from ${JSON.stringify(join(root, 'src/tfjs/index.ts'))};
      await useBackend('wasm'); await Promise.reject(new Error('boom from the user'));`;
    const child = spawnSync(
      process.execPath,
      ['--import', join(root, 'node_modules/tsx/dist/esm/index.mjs'), '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    expect(child.status).not.toBe(0);
    expect(child.stderr).toContain('boom from the user');
    expect(child.stderr).not.toMatch(/WasmBackendModule|readyPromiseResolve/);
    expect(child.stderr.length).toBeLessThan(2000);
  });
});
