// The transpose of a row-major matrix on the host, in tiles that stay in the cache.

/** Tile edge: a 64 × 64 float32 tile of source and of target is 16 kB each. */
const TILE = 64;

/**
 * Writes the transpose of `source` (row-major `[rows, columns]`) into `target` (row-major
 * `[columns, rows]`): `target[c·rows + r] = source[r·columns + c]`. Tiled, so both arrays are read
 * and written a cache line at a time.
 *
 * @example
 * ```ts
 * const target = new Float32Array(6);
 * transposeInto(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3, target); // [1, 4, 2, 5, 3, 6]
 * ```
 */
export function transposeInto(
  source: Float32Array,
  rows: number,
  columns: number,
  target: Float32Array,
): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < columns; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, columns);
      for (let c = c0; c < c1; c++) {
        let from = r0 * columns + c;
        let to = c * rows + r0;
        for (let r = r0; r < r1; r++, from += columns) target[to++] = source[from]!;
      }
    }
  }
}
