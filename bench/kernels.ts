// Single kernels at the shapes a `demo` or `small` training step runs, on the native `tensorflow`
// backend against PyTorch (bench/pytorch_kernels.py, 2 threads), in paired rounds: where the model's
// remaining gap to PyTorch (bench/native.ts) comes from, one kernel at a time.
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/tfjs/index.js';
import { pythonWithTorch, runPythonBench } from './native.js';
import { fmt, median, medianMs } from './timing.js';

/** One kernel at one shape, and which part of a step runs it. */
interface KernelCase {
  op: 'matMul' | 'mul' | 'exp' | 'rowSum';
  /** `[m, k, n]` for matMul, `[rows, columns]` otherwise. */
  shape: number[];
  where: string;
}

/** The kernels compared: products of both presets, and elementwise and reduction passes. */
const CASES: KernelCase[] = [
  { op: 'matMul', shape: [1024, 128, 128], where: 'demo q, o' },
  { op: 'matMul', shape: [1024, 128, 352], where: 'demo gate, up' },
  { op: 'matMul', shape: [1024, 352, 128], where: 'demo down' },
  { op: 'matMul', shape: [1024, 512, 256], where: 'small k, v' },
  { op: 'matMul', shape: [1024, 512, 512], where: 'small q, o' },
  { op: 'matMul', shape: [1024, 512, 1408], where: 'small gate, up' },
  { op: 'matMul', shape: [1024, 1408, 512], where: 'small down' },
  { op: 'matMul', shape: [1024, 512, 32000], where: 'small output layer' },
  { op: 'mul', shape: [1024, 128], where: 'demo norms, SwiGLU' },
  { op: 'mul', shape: [1024, 512], where: 'small norms, RoPE' },
  { op: 'mul', shape: [1024, 1408], where: 'small SwiGLU' },
  { op: 'exp', shape: [1024, 32000], where: 'small token loss' },
  { op: 'rowSum', shape: [1024, 32000], where: 'small token loss' },
];

/** Paired rounds (PyTorch and ours back to back, alternating which goes first). */
const ROUNDS = 3;

/** Work items of a case: multiply-adds for a product, elements otherwise (sets the run count). */
function workSize({ op, shape }: KernelCase): number {
  return op === 'matMul' ? shape[0]! * shape[1]! * shape[2]! : shape[0]! * shape[1]!;
}

/** Median microseconds of each case on the active backend (runs as in pytorch_kernels.py). */
function ourMicroseconds(): number[] {
  return CASES.map((kernelCase) => {
    const { op, shape } = kernelCase;
    const [a, b] =
      op === 'matMul'
        ? [tf.randomNormal([shape[0]!, shape[1]!]), tf.randomNormal([shape[1]!, shape[2]!])]
        : [tf.randomNormal(shape), tf.randomNormal(shape)];
    const run = {
      matMul: () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
      mul: () => tf.mul(a, b),
      exp: () => tf.exp(a),
      rowSum: () => tf.sum(a, 1),
    }[op];
    const runs = Math.max(5, Math.min(200, Math.floor(2e8 / workSize(kernelCase))));
    const ms = medianMs(() => run().dispose(), runs);
    tf.dispose([a, b]);
    return ms * 1000;
  });
}

/** Median microseconds of each case in PyTorch with 2 threads. */
function torchMicroseconds(python: string): number[] {
  const settings = { threads: 2, cases: CASES.map(({ op, shape }) => ({ op, shape })) };
  return (runPythonBench(python, 'pytorch_kernels.py', settings) as { microseconds: number[] }).microseconds;
}

/** Prints each kernel's time on `tensorflow` and in PyTorch, and returns PyTorch's time over ours per case. */
export async function benchKernels(): Promise<Record<string, number>> {
  const python = pythonWithTorch();
  try {
    await useBackend('tensorflow');
  } catch (error) {
    console.log(`kernels vs PyTorch: tensorflow not available (${(error as Error).message.split(';')[0]})`);
    return {};
  }
  if (python === undefined) {
    console.log('kernels vs PyTorch: PyTorch not found (see the native group)');
    return {};
  }
  const rounds: { ours: number[]; torch: number[] }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const torchFirst = round % 2 === 0;
    const before = torchFirst ? torchMicroseconds(python) : undefined;
    const ours = ourMicroseconds();
    rounds.push({ ours, torch: before ?? torchMicroseconds(python) });
  }
  console.log(
    `kernels on tensorflow vs PyTorch 2 threads, medians over ${ROUNDS} paired rounds (ratio = PyTorch's time / ours; < 1: ours is slower)`,
  );
  const figures: Record<string, number> = {};
  for (const [index, kernelCase] of CASES.entries()) {
    const ours = median(rounds.map((r) => r.ours[index]!));
    const torch = median(rounds.map((r) => r.torch[index]!));
    const ratio = median(rounds.map((r) => r.torch[index]! / r.ours[index]!));
    const rate =
      kernelCase.op === 'matMul'
        ? `   ${fmt((2 * workSize(kernelCase)) / ours / 1e3)} vs ${fmt((2 * workSize(kernelCase)) / torch / 1e3)} GFLOP/s`
        : '';
    const name = `${kernelCase.op} ${kernelCase.shape.join('×')}`;
    console.log(
      `  ${name.padEnd(22)} ${kernelCase.where.padEnd(20)} tensorflow ${fmt(ours).padStart(6)} µs   PyTorch ${fmt(torch).padStart(6)} µs   ratio ${fmt(ratio)}×${rate}`,
    );
    figures[name] = ratio;
  }
  return figures;
}
