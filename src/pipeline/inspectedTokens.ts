// One window's target tokens with their losses, excess and selection: what `rho-slm inspect`, the
// demo report and the playground show.
import { topKMask } from '../core/topKMask.js';

/** One target token of an inspected window. */
export interface InspectedToken {
  /** Token id. */
  id: number;
  /** Its text (bytes that do not form whole characters show as U+FFFD). */
  text: string;
  /** Current model's loss `L_θ` (nats). */
  modelLoss: number;
  /** Reference loss `L_ref` (nats). */
  refLoss: number;
  /** `L_θ − L_ref`. */
  excess: number;
  /** Whether the top-`ratio` rule over this window selects it. */
  selected: boolean;
}

/**
 * The tokens of one window as {@link InspectedToken}s: `excess = modelLoss − refLoss` (as float32)
 * and the top-`ratio` selection over the window, as SLM makes it.
 *
 * @param targets - the window's target token ids, `[T]`
 * @param modelLoss - the model's loss of each target, `[T]`
 * @param refLoss - the reference loss of each target, `[T]`
 * @param ratio - the share of tokens selected
 * @param tokenizer - turns one id into its text
 */
export function inspectTokens(
  targets: ArrayLike<number>,
  modelLoss: Float32Array,
  refLoss: ArrayLike<number>,
  ratio: number,
  tokenizer: { decode(ids: ArrayLike<number>): string },
): InspectedToken[] {
  const excess = modelLoss.map((loss, i) => loss - refLoss[i]!);
  const mask = topKMask(excess, { ratio });
  return Array.from(targets, (id, i) => ({
    id,
    text: tokenizer.decode([id]),
    modelLoss: modelLoss[i]!,
    refLoss: refLoss[i]!,
    excess: excess[i]!,
    selected: mask[i] === 1,
  }));
}
