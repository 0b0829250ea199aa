// O(n) order statistic: Floyd–Rivest selection (expected ~1.5n comparisons) with an
// introspective fallback to sorting the remaining range after too many partition rounds, so
// adversarial inputs cost O(n log n) at worst, never O(n²).

const SAMPLE_THRESHOLD = 600;

/**
 * Rearranges `values[0, count)` so that `values[rank]` holds the value of ascending rank `rank`
 * (0-based) and returns it. Entries must not be NaN.
 */
export function selectByRank(values: Float64Array, count: number, rank: number): number {
  const roundsBeforeSort = 4 * Math.ceil(Math.log2(count + 1)) + 8;
  selectRange(values, 0, count - 1, rank, roundsBeforeSort);
  return values[rank]!;
}

function selectRange(values: Float64Array, left: number, right: number, rank: number, rounds: number): void {
  while (right > left) {
    if (rounds-- <= 0) {
      values.subarray(left, right + 1).sort();
      return;
    }
    if (right - left > SAMPLE_THRESHOLD) {
      // Narrow [left, right] to a sample range that very likely holds the target (Floyd–Rivest).
      const n = right - left + 1;
      const i = rank - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (i - n / 2 < 0 ? -1 : 1);
      const newLeft = Math.max(left, Math.floor(rank - (i * s) / n + sd));
      const newRight = Math.min(right, Math.floor(rank + ((n - i) * s) / n + sd));
      selectRange(values, newLeft, newRight, rank, rounds);
    }
    const pivot = values[rank]!;
    let i = left;
    let j = right;
    swap(values, left, rank);
    if (values[right]! > pivot) swap(values, left, right);
    while (i < j) {
      swap(values, i, j);
      i++;
      j--;
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
    }
    if (values[left] === pivot) swap(values, left, j);
    else {
      j++;
      swap(values, j, right);
    }
    if (j <= rank) left = j + 1;
    if (rank <= j) right = j - 1;
  }
}

function swap(values: Float64Array, a: number, b: number): void {
  const held = values[a]!;
  values[a] = values[b]!;
  values[b] = held;
}
