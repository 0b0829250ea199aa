// checkpoint.ts in browser builds: checkpoint directories need Node's file system.
import { SLMError } from '../core/errors.js';
import type { CheckpointContents } from './checkpoint.js';

function nodeOnly(what: string): SLMError {
  return new SLMError(
    'NODE_ONLY',
    `${what} reads and writes checkpoint directories and needs Node; in a browser use LlamaModel.fromWeights and exportWeights.`,
  );
}

/** Throws `NODE_ONLY`: see `readLlamaCheckpoint` in checkpoint.ts. */
export async function readLlamaCheckpoint(_directory: string): Promise<CheckpointContents> {
  throw nodeOnly('LlamaModel.load');
}

/** Throws `NODE_ONLY`: see `saveLlamaCheckpoint` in checkpoint.ts. */
export async function saveLlamaCheckpoint(..._args: unknown[]): Promise<void> {
  throw nodeOnly('LlamaModel.save');
}
