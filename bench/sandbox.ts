// The cost of runPython's sandbox: 60 typical tool-integrated sympy programs, each run in the
// bubblewrap sandbox and without it (alternating which goes first), median wall time per program
// of each, and the fixed cost on a program that only prints. Both run the real interpreter
// (sys.executable), not a launcher such as pyenv's shim, which alone costs ~70 ms a start.
import { runPython } from '../src/eval/index.js';
import { resolveInterpreter } from '../src/eval/sandbox.js';
import { fmt, median } from './timing.js';

/** 60 programs in the style of ToRA / PAL outputs: sympy algebra, calculus, number theory. */
function sympyPrograms(): string[] {
  const programs: string[] = [];
  for (let k = 1; k <= 12; k++) {
    programs.push(
      `from sympy import symbols, solve\nx = symbols('x')\nprint(solve(x**2 - ${k + 1}*x - ${k * 3}, x))`,
      `from sympy import Rational\ntotal = Rational(${k}, ${k + 2}) + Rational(1, ${k + 5})\nprint(total)`,
      `from sympy import symbols, simplify, expand\nx, y = symbols('x y')\nprint(simplify(expand((x + ${k}*y)**3 - (x - y)**3)))`,
      `from sympy import factorint, divisor_count\nn = ${360 * k + 7}\nprint(factorint(n), divisor_count(n))`,
      `from sympy import symbols, integrate, diff, sin\nx = symbols('x')\ndef solution():\n    return integrate(diff(sin(${k}*x)*x**2, x), (x, 0, 1))\nprint(solution())`,
    );
  }
  return programs;
}

/** Wall time of one run in milliseconds, and its output. */
async function timed(code: string, python: string, sandbox: 'bwrap' | 'none'): Promise<[number, string]> {
  const start = performance.now();
  const run = await runPython(code, { python, sandbox, timeoutMs: 30_000 });
  return [performance.now() - start, `${run.result} ${run.report}`];
}

/** Prints the sandbox cost table and returns its figures. */
export async function benchSandbox(): Promise<Record<string, number>> {
  let python: string;
  try {
    python = (await resolveInterpreter('python3')).executable;
    await runPython('pass', { python }); // probes the sandbox once, as an evaluation does
  } catch (error) {
    console.log(`sandbox: skipped (${(error as Error).message})`);
    return {};
  }
  await runPython('import sympy', { python, sandbox: 'none' }); // warm the page cache for both
  const programs = sympyPrograms();
  const times = { bwrap: [] as number[], none: [] as number[] };
  const ratios: number[] = [];
  let different = 0;
  for (const [index, code] of programs.entries()) {
    const order: ('bwrap' | 'none')[] = index % 2 === 0 ? ['bwrap', 'none'] : ['none', 'bwrap'];
    const runs: Record<string, [number, string]> = {};
    for (const mode of order) runs[mode] = await timed(code, python, mode);
    const [sandboxed, plain] = [runs.bwrap!, runs.none!];
    times.bwrap.push(sandboxed[0]);
    times.none.push(plain[0]);
    ratios.push(sandboxed[0] / plain[0]);
    if (sandboxed[1] !== plain[1]) different++;
  }
  const fixed = { bwrap: [] as number[], none: [] as number[] };
  for (let run = 0; run < 20; run++)
    for (const mode of ['bwrap', 'none'] as const)
      fixed[mode].push((await timed('print(1)', python, mode))[0]);
  const figures = {
    programs: programs.length,
    sandboxedMs: median(times.bwrap),
    plainMs: median(times.none),
    medianRatio: median(ratios),
    printSandboxedMs: median(fixed.bwrap),
    printPlainMs: median(fixed.none),
    differentResults: different,
  };
  console.log(
    `sandbox (runPython, ${programs.length} sympy programs, median wall time per program, ${python})`,
  );
  console.log(`  bubblewrap sandbox     ${fmt(figures.sandboxedMs)} ms`);
  console.log(`  no sandbox             ${fmt(figures.plainMs)} ms`);
  console.log(`  per-program ratio      ${fmt(figures.medianRatio)}× (median of sandboxed / plain)`);
  console.log(
    `  print(1)               ${fmt(figures.printSandboxedMs)} ms sandboxed, ${fmt(figures.printPlainMs)} ms plain (20 runs each)`,
  );
  console.log(`  different results      ${different} of ${programs.length}`);
  return figures;
}
