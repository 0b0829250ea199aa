"""PyTorch side of `npm run bench -- kernels`: single kernels at the shapes a `demo` or `small`
training step runs, timed on this CPU, to compare with the same kernels on rho-slm's native
`tensorflow` backend (bench/kernels.ts).

Usage: python3 bench/pytorch_kernels.py '<json>' where the JSON holds
  {"threads": n, "cases": [{"op": "matMul", "shape": [m, k, n]} | {"op": "mul" | "exp" | "rowSum",
   "shape": [r, c]}, ...]}
("mul" multiplies two [r, c] tensors, "exp" is elementwise, "rowSum" sums each row).
Prints one JSON line: the median microseconds of each case, in order.
"""

import json
import statistics
import sys
import time

import torch


def kernel(case):
    op, shape = case["op"], case["shape"]
    if op == "matMul":
        m, k, n = shape
        a, b = torch.randn(m, k), torch.randn(k, n)
        return lambda: a @ b
    a, b = torch.randn(*shape), torch.randn(*shape)
    if op == "mul":
        return lambda: a * b
    if op == "exp":
        return lambda: torch.exp(a)
    if op == "rowSum":
        return lambda: a.sum(-1)
    raise ValueError(f"unknown op {op}")


def median_microseconds(work, elements):
    runs = max(5, min(200, int(2e8 / elements)))
    work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main():
    settings = json.loads(sys.argv[1])
    torch.set_num_threads(settings["threads"])
    result = []
    for case in settings["cases"]:
        work = kernel(case)
        shape = case["shape"]
        work_size = shape[0] * shape[1] * (shape[2] if case["op"] == "matMul" else 1)
        result.append(median_microseconds(work, work_size))
    print(json.dumps({"torch": torch.__version__, "microseconds": result}))


if __name__ == "__main__":
    main()
