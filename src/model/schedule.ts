// Learning-rate schedule: linear warmup, then cosine decay to a floor.
import { checkNumberOption } from '../core/check.js';

/** Options of {@link warmupCosineSchedule}. */
export interface WarmupCosineOptions {
  /** Learning rate at the end of warmup. */
  peak: number;
  /** Steps of linear warmup from `peak / warmupSteps` to `peak`. */
  warmupSteps: number;
  /** Step at which the cosine reaches `floor` (and stays). */
  totalSteps: number;
  /** Final learning rate. @default peak / 10 */
  floor?: number;
}

/**
 * `lr(step)` for 1-based steps: `peak · step / warmupSteps` during warmup, then
 * `floor + (peak − floor) · (1 + cos(π · progress)) / 2` with progress from 0 to 1 at `totalSteps`.
 *
 * @param options - see {@link WarmupCosineOptions}
 * @throws {@link SLMError} `BAD_OPTION`
 * @example
 * ```ts
 * const lr = warmupCosineSchedule({ peak: 1e-3, warmupSteps: 100, totalSteps: 1000 });
 * lr(50); // 5e-4
 * ```
 */
export function warmupCosineSchedule(options: WarmupCosineOptions): (step: number) => number {
  const fn = 'warmupCosineSchedule';
  const { peak, warmupSteps, totalSteps } = options;
  const floor = options.floor ?? peak / 10;
  checkNumberOption(peak, (p) => p > 0 && Number.isFinite(p), fn, 'peak', 'a finite number > 0');
  checkNumberOption(warmupSteps, (w) => Number.isInteger(w) && w >= 0, fn, 'warmupSteps', 'an integer ≥ 0');
  checkNumberOption(
    totalSteps,
    (t) => Number.isInteger(t) && t > warmupSteps,
    fn,
    'totalSteps',
    `an integer > warmupSteps (${warmupSteps})`,
  );
  checkNumberOption(floor, (f) => f >= 0 && f <= peak, fn, 'floor', `a number in [0, peak]`);
  return (step) => {
    if (step <= warmupSteps) return (peak * step) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    return floor + ((peak - floor) * (1 + Math.cos(Math.PI * progress))) / 2;
  };
}
