"""Time the NumPy reference LSTM and GRU (forward + backward of a sequence) against PyTorch's
nn.LSTM / nn.GRU on the same shapes, dtype and one thread, and print the ratios NumPy / PyTorch.

    python tools/bench_cells.py [--D 64] [--H 128] [--N 32] [--T 32] [--reps 30] [--cells lstm gru]

PyTorch is only the anchor of the comparison (never a dependency of the course); without it the
script prints the NumPy times alone.  Both sides compute dJ/dxs, dJ/dh0 and every weight gradient
from a random dJ/dhs; the two are timed in alternation and the median of ``--reps`` runs is shown, in CPU time of the
process by default (``--clock wall`` for elapsed time), which a busy machine disturbs less.
Goals (CURRICULUM.md, issue 11): GRU <= 1.0 in both dtypes, LSTM <= 1.0 in float64, <= 1.3 in float32.

The matrix products dominate, so the figures depend on the kernels NumPy's OpenBLAS picks for the
CPU (printed when threadpoolctl is installed).  OpenBLAS 0.3.31 runs its AVX2 "Haswell" kernels on
an AMD Zen 5, while PyTorch's MKL uses AVX-512; OPENBLAS_CORETYPE=SkylakeX (set before the run)
gives OpenBLAS its AVX-512 kernels where the CPU has them.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):   # before NumPy loads its BLAS
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.cells import get_cell  # noqa: E402

GOALS = {("rnn", "float32"): 1.0, ("rnn", "float64"): 1.0, ("lstm", "float32"): 1.3, ("lstm", "float64"): 1.0,
         ("gru", "float32"): 1.0, ("gru", "float64"): 1.0}


def one_thread():
    """Limit NumPy's BLAS (threadpoolctl when installed) and PyTorch to one thread; print the BLAS kernels."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        threadpool_limits(1)
        for lib in threadpool_info():
            if lib.get("user_api") == "blas":
                print(f"NumPy's BLAS: {lib.get('internal_api')} {lib.get('version')}, "
                      f"{lib.get('architecture', '?')} kernels")
    except ImportError:
        pass  # the environment variables above already limit the threads
    try:
        import torch
        torch.set_num_threads(1)
        return torch
    except ImportError:
        return None


def numpy_run(name, D, H, N, T, dtype, rng):
    """A function running forward + backward of the reference cell once."""
    cell = get_cell(name)
    params = cell.init(D, H, rng, dtype)
    xs = rng.standard_normal((T, D, N)).astype(dtype)
    dhs = rng.standard_normal((T, H, N)).astype(dtype)
    state0 = cell.zero_state(H, N, dtype)

    def run():
        _, cache = cell.forward(xs, state0, params)
        cell.backward(dhs, cache)
    return run


def torch_run(torch, name, D, H, N, T, dtype, rng):
    """The same for torch.nn.RNN / LSTM / GRU (input gradient included, as the reference computes it)."""
    tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[name](D, H).to(tdtype)
    xs = torch.tensor(rng.standard_normal((T, N, D)), dtype=tdtype, requires_grad=True)
    dhs = torch.tensor(rng.standard_normal((T, N, H)), dtype=tdtype)

    def run():
        out, _ = module(xs)
        out.backward(dhs)
    return run


def timed(fn, clock):
    start = clock()
    fn()
    return clock() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for size, default in (("D", 64), ("H", 128), ("N", 32), ("T", 32)):
        parser.add_argument(f"--{size}", type=int, default=default)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="cpu: the process's CPU time (steadier on a shared machine); wall: elapsed time")
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru"], choices=["lstm", "gru", "rnn"])
    args = parser.parse_args(argv)
    torch = one_thread()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"forward + backward of a sequence, D = {args.D}, H = {args.H}, N = {args.N}, T = {args.T}, one thread, "
          f"median {args.clock} time of {args.reps} runs")
    for name in args.cells:
        for dtype in ("float32", "float64"):
            rng = np.random.default_rng(0)
            runs = {"numpy": numpy_run(name, args.D, args.H, args.N, args.T, dtype, rng)}
            if torch is not None:
                runs["torch"] = torch_run(torch, name, args.D, args.H, args.N, args.T, dtype, rng)
            times = {k: [] for k in runs}
            for fn in runs.values():      # warm up
                for _ in range(3):
                    fn()
            for _ in range(args.reps):
                for key, fn in runs.items():
                    times[key].append(timed(fn, clock))
            median = {k: statistics.median(v) * 1e3 for k, v in times.items()}
            line = f"  {name:4s} {dtype}: NumPy {median['numpy']:7.2f} ms"
            if "torch" in median:
                ratio = median["numpy"] / median["torch"]
                goal = GOALS.get((name, dtype))
                verdict = "" if goal is None else f"  (goal <= {goal}: {'met' if ratio <= goal else 'MISSED'})"
                line += f"   PyTorch {median['torch']:7.2f} ms   ratio {ratio:.2f}{verdict}"
            print(line)


if __name__ == "__main__":
    main()
