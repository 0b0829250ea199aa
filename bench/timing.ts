// Median-of-runs wall-clock timing for benchmarks (never used by tests).

/** Runs `work` once to warm up, then `runs` times, and returns the median time in milliseconds. */
export function medianMs(work: () => unknown, runs = 7): number {
  work();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

/** Formats a number with 3 significant digits. */
export function fmt(value: number): string {
  return value.toPrecision(3);
}
