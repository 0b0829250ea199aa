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
  return median(times);
}

/** {@link medianMs} for asynchronous work (awaited each run). */
export async function medianMsAsync(work: () => Promise<unknown>, runs = 5): Promise<number> {
  await work();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Formats a number with 3 significant digits. */
export function fmt(value: number): string {
  return value.toPrecision(3);
}
