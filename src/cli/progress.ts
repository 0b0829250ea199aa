// Progress for long commands: a bar on a terminal, a plain line every few seconds otherwise.
import cliProgress from 'cli-progress';

/** Reports `done / total` with extra fields (e.g. loss). */
export interface Progress {
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * Units per second since the first report, as text: `'–'` until a second has passed (a rate over
 * the first milliseconds, or counted from a resumed position, says nothing).
 */
export function rateMeter(now: () => number = Date.now): (done: number) => string {
  let first: { done: number; time: number } | undefined;
  return (done) => {
    const time = now();
    first ??= { done, time };
    const seconds = (time - first.time) / 1000;
    return seconds < 1 ? '–' : ((done - first.done) / seconds).toFixed(1);
  };
}

/** A progress reporter on stderr for `total` units named `unit`. */
export function createProgress(label: string, total: number, unit: string): Progress {
  const rateOf = rateMeter();
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} ${unit} · {rate} ${unit}/s · {extra} · ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: '–', extra: '' });
    return {
      update: (done, fields = {}) => {
        bar.update(done, {
          rate: rateOf(done),
          extra: Object.entries(fields)
            .map(([k, v]) => `${k} ${v}`)
            .join(' '),
        });
      },
      stop: () => bar.stop(),
    };
  }
  let lastPrinted = 0;
  return {
    update: (done, fields = {}) => {
      const rate = rateOf(done);
      if (Date.now() - lastPrinted < 5000 && done < total) return;
      lastPrinted = Date.now();
      const extra = Object.entries(fields)
        .map(([k, v]) => ` ${k}=${v}`)
        .join('');
      process.stderr.write(`${label}: ${done}/${total} ${unit} (${rate} ${unit}/s)${extra}\n`);
    },
    stop: () => undefined,
  };
}

/** Progress through named stages: a new bar whenever the stage changes. */
export function createStagedProgress(unit: string): {
  report: (stage: string, done: number, total: number) => void;
  stop: () => void;
} {
  let progress: Progress | undefined;
  let current = '';
  return {
    report: (stage, done, total) => {
      if (stage !== current) {
        progress?.stop();
        current = stage;
        progress = createProgress(stage, total, unit);
      }
      progress!.update(done);
    },
    stop: () => progress?.stop(),
  };
}
