// Central finite differences in float64, the reference every analytic gradient is checked against.

/** ∂objective/∂x_j for every j by central differences with step `h`. */
export function centralDifferences(
  objective: (x: Float64Array) => number,
  x: Float64Array,
  h = 1e-5,
): number[] {
  return Array.from(x, (_, j) => {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[j] = plus[j]! + h;
    minus[j] = minus[j]! - h;
    return (objective(plus) - objective(minus)) / (2 * h);
  });
}
