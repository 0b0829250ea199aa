// Choosing a tfjs backend: the fastest one that loads here, with the reasons the others did not.
import * as tf from '@tensorflow/tfjs';
import { checkOneOf } from '../core/check.js';
import { SLMError } from '../core/errors.js';
import { registerWasmKernels } from './wasmKernels.js';

/** A backend {@link useBackend} can select. */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** The order `'auto'` tries: native TensorFlow, WebGPU, WebAssembly, plain JavaScript. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** What to install for each backend, named in `BACKEND_UNAVAILABLE` errors. */
const INSTALL_HINTS: Record<BackendName, string> = {
  tensorflow: '`npm install @tensorflow/tfjs-node` (or `@tensorflow/tfjs-node-gpu` with CUDA)',
  webgpu: '`npm install @tensorflow/tfjs-backend-webgpu` (and `webgpu` in Node), and a GPU adapter',
  wasm: '`npm install @tensorflow/tfjs-backend-wasm`',
  cpu: '`npm install @tensorflow/tfjs`',
};

/** A backend that was tried and not chosen. */
export interface SkippedBackend {
  /** Backend name. */
  backend: BackendName;
  /** Why it was skipped (the import or initialisation error). */
  reason: string;
}

/** What {@link useBackend} chose. */
export interface BackendChoice {
  /** The active tfjs backend. */
  backend: BackendName;
  /** Backends tried before it, in order, with the reason each was skipped. */
  skipped: SkippedBackend[];
}

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /** Loads a module by name; replace it to test fallbacks. @default dynamic `import()` */
  importModule?: (specifier: string) => Promise<unknown>;
  /** Environment variables; `RHO_SLM_BACKEND` overrides the preference. @default process.env */
  env?: Record<string, string | undefined>;
}

const defaultImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * Turns off the cpu backend's "install tfjs-node" banner (this library chooses backends itself).
 * Initialises tfjs's backends first if nothing has yet, so the silenced instance is the one used.
 *
 * @example
 * ```ts
 * silenceNodeBanner();
 * tf.tensor([1, 2]); // no banner
 * ```
 */
export function silenceNodeBanner(): void {
  try {
    tf.backend(); // initialise (tf.getBackend() alone does not)
  } catch {
    // The best backend initialises asynchronously (wasm, webgpu): setBackend will pick the registry's cpu below.
  }
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu !== null && 'firstUse' in cpu) cpu.firstUse = false;
}

/** Emscripten's Node listeners that only rethrow (`throw reason`; `if (!(ex instanceof ExitStatus)) throw ex`). */
const EMSCRIPTEN_RETHROW = [
  /^function\s*\((\w+)\)\s*\{\s*throw \1;?\s*\}$/,
  /^function\s*\((\w+)\)\s*\{\s*if\s*\(!\(\1 instanceof ExitStatus\)\)\s*\{?\s*throw \1;?\s*\}?\s*\}$/,
];

/**
 * Removes the `uncaughtException`/`unhandledRejection` listeners that the wasm backend's
 * Emscripten module installs in Node. They only rethrow, from inside a minified file, so Node
 * prints kilobytes of its source above the real error; without them Node prints the error as usual
 * and exits with the same status.
 */
export function quietWasmRethrow(): void {
  if (typeof process === 'undefined' || typeof process.listeners !== 'function') return;
  const emitter = process as NodeJS.EventEmitter;
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    for (const listener of emitter.listeners(event)) {
      const source = String(listener).trim();
      if (EMSCRIPTEN_RETHROW.some((pattern) => pattern.test(source)))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}

async function activate(name: BackendName): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

async function loadWebGpuForNode(importModule: (specifier: string) => Promise<unknown>): Promise<void> {
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator?.gpu !== undefined) return;
  const dawn = (await importModule('webgpu')) as { create: (flags: string[]) => unknown; globals?: object };
  if (dawn.globals !== undefined) Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...(scope.navigator ?? {}), gpu },
    configurable: true,
  });
}

/** What this module reads of a WebGPU adapter. */
export interface GpuAdapterInfo {
  isFallbackAdapter?: boolean;
  info?: {
    vendor?: string;
    architecture?: string;
    description?: string;
    device?: string;
    isFallbackAdapter?: boolean;
  };
}

/**
 * A description when `adapter` runs on the CPU (a fallback adapter, llvmpipe/lavapipe, SwiftShader).
 * Internal (the WebGPU benchmark uses it too); not part of the package's API.
 */
export function softwareAdapter(adapter: GpuAdapterInfo): string | undefined {
  const description = `${adapter.info?.description ?? ''} ${adapter.info?.device ?? ''}`.trim();
  if (adapter.isFallbackAdapter === true || adapter.info?.isFallbackAdapter === true)
    return description || 'fallback adapter';
  return /llvmpipe|lavapipe|swiftshader/i.test(description) ? description : undefined;
}

async function tryBackend(
  name: BackendName,
  importModule: (specifier: string) => Promise<unknown>,
  explicit: boolean,
): Promise<void> {
  switch (name) {
    case 'tensorflow':
      // TensorFlow's C++ start-up lines (oneDNN, CPU features) are noise here; TF_CPP_MIN_LOG_LEVEL=0 shows them.
      if (typeof process !== 'undefined') process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
      try {
        await importModule('@tensorflow/tfjs-node-gpu');
      } catch (gpuError) {
        try {
          await importModule('@tensorflow/tfjs-node');
        } catch (cpuError) {
          throw new Error(
            `@tensorflow/tfjs-node-gpu: ${message(gpuError)}; @tensorflow/tfjs-node: ${message(cpuError)}`,
          );
        }
      }
      return activate('tensorflow');
    case 'webgpu': {
      const scope = globalThis as {
        navigator?: { gpu?: { requestAdapter(): Promise<GpuAdapterInfo | null> } };
      };
      if (typeof process !== 'undefined' && process.versions?.node !== undefined)
        await loadWebGpuForNode(importModule);
      if (scope.navigator?.gpu === undefined) throw new Error('no navigator.gpu in this environment');
      const adapter = await scope.navigator.gpu.requestAdapter();
      if (adapter === null) throw new Error('navigator.gpu.requestAdapter() found no adapter');
      const software = softwareAdapter(adapter);
      if (software !== undefined && !explicit) {
        throw new Error(
          `only a software adapter (${software}), slower than wasm; ask for 'webgpu' by name to use it`,
        );
      }
      await importModule('@tensorflow/tfjs-backend-webgpu');
      return activate('webgpu');
    }
    case 'wasm':
      await importModule('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      await activate('wasm');
      return quietWasmRethrow();
    case 'cpu':
      return activate('cpu');
  }
}

/**
 * Selects the tfjs backend. `'auto'` tries, in order, `tensorflow` (`@tensorflow/tfjs-node-gpu`,
 * then `@tensorflow/tfjs-node`), `webgpu` (the browser's, or Node's through the `webgpu` package,
 * with a hardware adapter: software ones such as lavapipe are slower than wasm and are used only
 * when `'webgpu'` is asked for by name), `wasm` and `cpu`, and keeps the first that initialises. The
 * environment variable `RHO_SLM_BACKEND` overrides `preference`. Also silences the cpu backend's
 * "install tfjs-node" banner and, for wasm, registers the kernels that `tf.layers` gradients need
 * there (see {@link registerWasmKernels}).
 *
 * @param preference - `'auto'` or a backend name. @default 'auto'
 * @param options - see {@link UseBackendOptions}
 * @returns the chosen backend and why the ones before it were skipped
 * @throws {@link SLMError} `BAD_OPTION` for an unknown name; `BACKEND_UNAVAILABLE` when a named backend fails to load
 * @example
 * ```ts
 * const { backend, skipped } = await useBackend();
 * console.log(`training on ${backend}`, skipped);
 * ```
 */
export async function useBackend(
  preference: 'auto' | BackendName = 'auto',
  options: UseBackendOptions = {},
): Promise<BackendChoice> {
  const fn = 'useBackend';
  const env = options.env ?? (typeof process === 'undefined' ? {} : process.env);
  const wanted = env.RHO_SLM_BACKEND ?? preference;
  checkOneOf(
    wanted,
    ['auto', ...BACKEND_ORDER],
    fn,
    env.RHO_SLM_BACKEND === undefined ? 'preference' : 'RHO_SLM_BACKEND',
  );
  const importModule = options.importModule ?? defaultImport;
  silenceNodeBanner();
  const candidates = wanted === 'auto' ? BACKEND_ORDER : [wanted];
  const skipped: SkippedBackend[] = [];
  for (const backend of candidates) {
    try {
      await tryBackend(backend, importModule, wanted !== 'auto');
      silenceNodeBanner();
      return { backend, skipped };
    } catch (error) {
      skipped.push({ backend, reason: message(error) });
    }
  }
  const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  const hint = wanted === 'auto' ? INSTALL_HINTS.wasm : INSTALL_HINTS[wanted];
  throw new SLMError(
    'BACKEND_UNAVAILABLE',
    `'${fn}' could not initialise ${wanted === 'auto' ? 'any backend' : `backend '${wanted}'`} (${reasons}); try ${hint}.`,
  );
}
