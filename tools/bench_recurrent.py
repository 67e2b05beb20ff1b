"""Benchmark the NumPy recurrent reference against PyTorch on the CPU, side by side in one run.

Two benchmarks, on the shapes of issue 10 (V = 2000, D = 64, H = 128, N = 32, T = 32), in float32 and
float64, on one thread (threadpoolctl for NumPy's BLAS, torch.set_num_threads(1) for PyTorch):

- "LM step": one language-model training step = forward, backward, clipping by global norm (5.0)
  and an SGD update.  NumPy: helpers.rnn_lm.lm_loss + helpers.clipping.clip_by_global_norm +
  helpers.optim.sgd_step.  PyTorch: nn.Embedding + nn.RNN(tanh) / nn.LSTM / nn.GRU + nn.Linear +
  cross-entropy + clip_grad_norm_ + SGD.
- "layer": the recurrent layer alone, forward and backward of a sequence (given dJ/dh_t at every
  step).  NumPy: cell.forward + cell.backward.  PyTorch: the nn module's forward + backward.

PyTorch is only a benchmark anchor (timed where it imports), never a dependency of the course.
The two implementations alternate step by step; each figure is the median of the repeats;
ratio = NumPy / PyTorch (goal: <= 1.0).  Every cell of helpers.cells whose module exists
(helpers/rnn.py, lstm.py, gru.py) is benchmarked.

    python tools/bench_recurrent.py [--repeats 30] [--cells rnn lstm] [--dtypes float32] [--kinds layer] [--clock cpu]

--clock cpu times the CPU time of the process instead of the elapsed time: on a machine shared with other
work (CI, a busy laptop) it is disturbed less.
    from tools.bench_recurrent import bench; rows = bench()       # list of dicts
"""
from __future__ import annotations

import os

if __name__ == "__main__":  # one thread also without threadpoolctl: set before NumPy loads its BLAS
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.cells import CELLS, get_cell  # noqa: E402
from helpers.clipping import clip_by_global_norm  # noqa: E402
from helpers.optim import sgd_step  # noqa: E402
from helpers.rnn_lm import init_lm, lm_loss  # noqa: E402

SHAPES = {"V": 2000, "D": 64, "H": 128, "N": 32, "T": 32}
MAX_NORM, LR = 5.0, 0.1
TORCH_CELLS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def available_cells() -> list[str]:
    """The cell names of helpers.cells whose module exists in this checkout."""
    return [name for name in CELLS.NAMES if importlib.util.find_spec(f"helpers.{name}") is not None]


def _ids(shapes, seed):
    return np.random.default_rng(seed).integers(0, shapes["V"], size=(shapes["T"] + 1, shapes["N"]))


def numpy_step(cell, dtype, shapes=SHAPES, seed=0):
    """A function running one training step of the NumPy reference on a fixed batch (_ids(shapes, seed));
    its parameters are step.state["params"]."""
    cell = get_cell(cell)
    V, D, H, N = shapes["V"], shapes["D"], shapes["H"], shapes["N"]
    state = {"params": init_lm(V, D, H, cell, seed, dtype)}
    ids, state0 = _ids(shapes, seed), cell.zero_state(H, N, np.dtype(dtype))

    def step():
        _, grads, _ = lm_loss(state["params"], ids, state0, cell)
        clipped, _ = clip_by_global_norm(grads, MAX_NORM)
        state["params"] = sgd_step(state["params"], clipped, LR)

    step.state = state  # the current parameters, for tests
    return step


def _torch_cell(torch, name, D, H):
    """nn.RNN with tanh, nn.LSTM or nn.GRU: one layer, time-major (T, N, D) inputs."""
    return getattr(torch.nn, TORCH_CELLS[name])(D, H, **({"nonlinearity": "tanh"} if name == "rnn" else {}))


def torch_step(cell, dtype, shapes=SHAPES, seed=0):
    """The same step in PyTorch, or None when torch does not import."""
    try:
        import torch
    except ImportError:
        return None
    from torch import nn
    torch.manual_seed(seed)
    tdtype = {"float32": torch.float32, "float64": torch.float64}[np.dtype(dtype).name]
    V, D, H, N, T = (shapes[k] for k in ("V", "D", "H", "N", "T"))
    name = get_cell(cell).name
    embedding, recurrent, output = nn.Embedding(V, D), _torch_cell(torch, name, D, H), nn.Linear(H, V)
    modules = nn.ModuleList([embedding, recurrent, output]).to(tdtype)
    parameters = list(modules.parameters())
    optimizer = torch.optim.SGD(parameters, lr=LR)
    ids = torch.from_numpy(_ids(shapes, seed))
    h0 = torch.zeros(1, N, H, dtype=tdtype)
    state0 = (h0, h0.clone()) if name == "lstm" else h0

    def step():
        optimizer.zero_grad(set_to_none=True)
        hs, _ = recurrent(embedding(ids[:-1]), state0)                      # (T, N, H)
        loss = nn.functional.cross_entropy(output(hs.reshape(T * N, H)), ids[1:].reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(parameters, MAX_NORM)
        optimizer.step()

    return step


@contextlib.contextmanager
def one_thread():
    """NumPy's BLAS and PyTorch limited to one thread inside the block."""
    limits = contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(1)
    except ImportError:  # run as a script: OPENBLAS_NUM_THREADS=1 was set before NumPy loaded
        pass
    torch_threads = None
    with contextlib.suppress(ImportError):
        import torch
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)
    with limits:
        yield
    if torch_threads is not None:
        import torch
        torch.set_num_threads(torch_threads)


def _median_ms(times):
    return 1e3 * statistics.median(times)


def numpy_layer(cell, dtype, shapes=SHAPES, seed=0):
    """Forward and backward of the NumPy cell over one batch of sequences (fixed inputs and dJ/dh_t)."""
    cell = get_cell(cell)
    D, H, N, T = (shapes[k] for k in ("D", "H", "N", "T"))
    rng = np.random.default_rng(seed)
    params = cell.init(D, H, rng, np.dtype(dtype))
    xs, dhs = (rng.normal(size=shape).astype(dtype) for shape in ((T, D, N), (T, H, N)))
    state0 = cell.zero_state(H, N, np.dtype(dtype))

    def layer():
        _, cache = cell.forward(xs, state0, params)
        cell.backward(dhs, cache)

    return layer


def torch_layer(cell, dtype, shapes=SHAPES, seed=0):
    """The same in PyTorch (nn.RNN / nn.LSTM / nn.GRU, time-major), or None when torch does not import."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(seed)
    tdtype = {"float32": torch.float32, "float64": torch.float64}[np.dtype(dtype).name]
    D, H, N, T = (shapes[k] for k in ("D", "H", "N", "T"))
    name = get_cell(cell).name
    module = _torch_cell(torch, name, D, H).to(tdtype)
    xs = torch.randn(T, N, D, dtype=tdtype, requires_grad=True)
    dhs = torch.randn(T, N, H, dtype=tdtype)

    def layer():
        hs, _ = module(xs)
        hs.backward(dhs)

    return layer


KINDS = {"LM step": (numpy_step, torch_step), "layer": (numpy_layer, torch_layer)}


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _time(functions, repeats, warmup, clock="wall"):
    """Median ms of each function, calling them in turn (so a busy machine slows both alike)."""
    now = CLOCKS[clock]
    times = {k: [] for k in functions}
    for i in range(warmup + repeats):
        for k, f in functions.items():
            start = now()
            f()
            if i >= warmup:
                times[k].append(now() - start)
    return {k: _median_ms(v) for k, v in times.items()}


def bench(cells=None, dtypes=("float32", "float64"), repeats=30, warmup=3, shapes=SHAPES, kinds=tuple(KINDS),
          clock="wall"):
    """Rows {"kind", "cell", "dtype", "numpy_ms", "torch_ms", "ratio"} (torch_ms and ratio None without
    torch), each a median over ``repeats`` alternating runs of the two implementations."""
    rows = []
    with one_thread():
        for kind in kinds:
            for cell in cells or available_cells():
                for dtype in dtypes:
                    make_numpy, make_torch = KINDS[kind]
                    functions = {"numpy": make_numpy(cell, dtype, shapes), "torch": make_torch(cell, dtype, shapes)}
                    ms = _time({k: f for k, f in functions.items() if f is not None}, repeats, warmup, clock)
                    torch_ms = ms.get("torch")
                    rows.append({"kind": kind, "cell": cell, "dtype": np.dtype(dtype).name, "numpy_ms": ms["numpy"],
                                 "torch_ms": torch_ms, "ratio": ms["numpy"] / torch_ms if torch_ms else None})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per implementation (median)")
    parser.add_argument("--cells", nargs="*", default=None, help=f"cells (default: those present of {CELLS.NAMES})")
    parser.add_argument("--dtypes", nargs="*", default=["float32", "float64"])
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--clock", default="wall", choices=list(CLOCKS), help="elapsed (wall) or CPU time")
    args = parser.parse_args(argv)
    print("LM step: forward, backward, global-norm clipping, SGD; layer: cell forward + backward of a sequence")
    print(", ".join(f"{k} = {v}" for k, v in SHAPES.items()) + f"; one thread; median {args.clock} time of "
          f"{args.repeats}")
    print(f"{'benchmark':<10}{'cell':<6}{'dtype':<9}{'NumPy (ms)':>12}{'PyTorch (ms)':>14}{'ratio':>8}")
    for row in bench(args.cells, args.dtypes, args.repeats, kinds=args.kinds, clock=args.clock):
        torch_ms = f"{row['torch_ms']:>14.2f}" if row["torch_ms"] else f"{'(no torch)':>14}"
        ratio = f"{row['ratio']:>8.2f}" if row["ratio"] else f"{'':>8}"
        print(f"{row['kind']:<10}{row['cell']:<6}{row['dtype']:<9}{row['numpy_ms']:>12.2f}{torch_ms}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
