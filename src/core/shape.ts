// The one helper every layer needs for shapes.

/** The number of elements of a tensor of `shape` (1 for a scalar's `[]`). */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const size of shape) count *= size;
  return count;
}
