"""Benchmark the solution notebooks against the budgets of docs/conventions.md.

For each notebook in solutions/, run it top to bottom with nbclient several
times in normal mode and in grading mode (NBGRADER_EXECUTION=autograde, as
nbgrader sets it), and print the median wall time (kernel start included) and
the median peak resident memory of the kernel process.

Then time the heavy reference computations, the NumPy recurrent layers and
RNN-LM step against PyTorch where it is installed (the optional `bench` extra),
and grade a synthetic class of each notebook (``--grade``, ``--class-size``) with
the command ``make grade`` runs, on the idle machine and beside one busy process,
and print the throughput (goal: one submission per second on 2 cores).

    python tools/bench.py [--runs 3] [--only-grading] [assignment ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"normal": 20.0, "grading": 5.0, "memory_mb": 400.0}
PEAK_MEMORY = "import resource; print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def run_once(path: Path, grading: bool) -> tuple[float, float]:
    """(seconds, peak MB of the kernel) for one top-to-bottom run of the notebook."""
    nb = nbformat.read(path, 4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_MEMORY))
    env = dict(os.environ)
    env.pop("NBGRADER_EXECUTION", None)
    if grading:
        env["NBGRADER_EXECUTION"] = "autograde"
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    seconds = time.perf_counter() - start
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return seconds, int(text.split("PEAK_RSS_KB")[1]) / 1024


def bench_notebook(path: Path, runs: int) -> dict:
    figures = {}
    for mode in ("normal", "grading"):
        results = [run_once(path, mode == "grading") for _ in range(runs)]
        figures[mode] = statistics.median(s for s, _ in results)
        figures[f"{mode}_mb"] = statistics.median(m for _, m in results)
    return figures


def bench_components(runs: int) -> None:
    """Median times of the heavy reference computations: n-gram counting and a window-LM epoch."""
    from helpers import ngram, window_lm
    from helpers.data.corpus import load_corpus

    corpus = load_corpus()
    big_ids, big_sentence = corpus.long_stream("train", 5, 1_000_000)
    print(f"\ncounting n-grams in a stream of {len(big_ids):,} tokens (median of {runs}):")
    for n in (2, 3, 5):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            ngram.ngram_counts(ngram.ngram_windows(big_ids, big_sentence, n), corpus.V)
            times.append(time.perf_counter() - start)
        print(f"  n = {n}: {statistics.median(times):.3f} s")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        window_lm.train_window_lm(corpus, epochs=1, progress=False)
        times.append(time.perf_counter() - start)
    print(f"window neural LM, one epoch over {corpus.n_tokens('train'):,} tokens (V = {corpus.V}, D = 32, H = 64): "
          f"{statistics.median(times):.2f} s")
    bench_generation(runs)


def bench_generation(runs: int) -> None:
    """Notebook 06: 1,000 characters sampled from the pretrained character LSTM (goal: well under a second)."""
    import numpy as np
    from helpers import sampling
    from helpers.cells import get_cell
    from helpers.pretrained import load_char_lstm

    params, _ = load_char_lstm()
    step, H = sampling.lm_step(params, "lstm"), params["U"].shape[1]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sampling.generate(step, get_cell("lstm").zero_state(H, 1, np.float32), np.array([2]), 1000,
                          sampling.sampler(0.8, top_p=0.95), np.random.default_rng(0))
        times.append(time.perf_counter() - start)
    print(f"1,000 characters from the pretrained character LSTM (H = {H}, T = 0.8, top-p 0.95): "
          f"{statistics.median(times):.3f} s (goal: well under 1 s)")


EPOCH = ("import time\nfrom helpers import window_lm\nfrom helpers.data import load_corpus\ncorpus = load_corpus()\n"
         "start = time.perf_counter()\nwindow_lm.train_window_lm(corpus, epochs=1, progress=False)\n"
         "print(time.perf_counter() - start)\n")


def bench_threads(runs: int) -> None:
    """One window-LM epoch with NumPy's BLAS on 1 and on 2 threads (COURSE_BLAS_THREADS), on an idle machine
    and beside one busy process (as on JupyterHub or CI): why the course keeps BLAS to one thread."""
    import subprocess
    print(f"\nwindow neural LM, one epoch, by BLAS threads (median of {runs}):")
    for busy in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for threads in (1, 2):
                env = {**os.environ, "COURSE_BLAS_THREADS": str(threads)}
                times = [float(subprocess.run([sys.executable, "-c", EPOCH], env=env, cwd=ROOT, capture_output=True,
                                              text=True, check=True).stdout) for _ in range(runs)]
                print(f"  {'beside a busy process' if busy else 'idle machine':<22} {threads} thread"
                      f"{'s' if threads > 1 else ' '}: {statistics.median(times):.2f} s")
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()


#: the goal of each ratio NumPy / PyTorch (CURRICULUM.md): no slower than PyTorch, the LSTM in float32 1.3 times
RECURRENT_GOAL = {("lstm", "float32"): 1.3}


def bench_recurrent(repeats: int = 30, shapes: dict | None = None) -> bool:
    """The NumPy reference against PyTorch on the CPU, side by side, one thread (tools/bench_recurrent.py): one
    RNN-LM training step (forward, backward, clipping, SGD) at V = 2000, D = 64, H = 128, N = 32, T = 32, and each
    recurrent layer alone, in float32 and float64.  PyTorch is optional (pip install -e ".[bench]"): where it does
    not import, NumPy alone is timed.  Prints the table; returns whether every ratio meets its goal.
    shapes: other shapes than issue 10's (tests)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_recurrent as recurrent

    try:
        import torch
        anchor = f"PyTorch {torch.__version__}"
    except ImportError:
        anchor = 'PyTorch (not installed: pip install -e ".[bench]")'
    shapes = shapes or recurrent.SHAPES
    print(f"\nNumPy reference against {anchor}, one thread, median of {repeats}; "
          + ", ".join(f"{k} = {v}" for k, v in shapes.items()))
    print(f"{'benchmark':<10}{'cell':<6}{'dtype':<9}{'NumPy (ms)':>12}{'PyTorch (ms)':>14}{'ratio':>8}  goal")
    ok = True
    for row in recurrent.bench(repeats=repeats, shapes=shapes):
        goal = RECURRENT_GOAL.get((row["cell"], row["dtype"]), 1.0)
        if row["ratio"] is None:
            torch_ms, ratio, verdict = f"{'-':>14}", f"{'-':>8}", ""
        else:
            torch_ms, ratio = f"{row['torch_ms']:>14.2f}", f"{row['ratio']:>8.2f}"
            verdict = f"<= {goal:g}: " + ("met" if row["ratio"] <= goal else "NOT met")
            ok &= row["ratio"] <= goal
        print(f"{row['kind']:<10}{row['cell']:<6}{row['dtype']:<9}{row['numpy_ms']:>12.2f}{torch_ms}{ratio}  {verdict}")
    return ok


def synthetic_class(assignment: str, n: int, folder: Path) -> None:
    """``n`` submissions of ``assignment`` in ``folder``: every fourth blank, every fourth with half of
    the answers blank, the rest solved (as a class looks near the deadline)."""
    release = nbformat.read(ROOT / "notebooks" / assignment / f"{assignment}.ipynb", 4)
    solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
    solved = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
              if c.metadata.get("nbgrader", {}).get("solution")}
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        nb = nbformat.from_dict(release)
        answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        for k, cell in enumerate(answers):
            if i % 4 != 0 and not (i % 4 == 1 and k % 2):
                cell.source = solved[cell.metadata["nbgrader"]["grade_id"]]
        nbformat.write(nb, folder / f"student{i:03d}.ipynb")


def bench_grading(assignment: str, n: int, busy: bool = False) -> tuple[float, float]:
    """Grade a synthetic class with `make grade`'s command (feedback included; a gradebook of its own), with
    one other busy process beside it if ``busy``; return (submissions per second, CPU seconds per submission,
    the grader's and its processes', which other load on the machine does not change)."""
    import resource
    import subprocess
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None  # another user's job
    try:
        with tempfile.TemporaryDirectory() as tmp:
            synthetic_class(assignment, n, Path(tmp) / "class")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "grader", "--assignment", assignment,
                                     "--submissions", str(Path(tmp) / "class"), "--out", str(Path(tmp) / "reports"),
                                     "--gradebook", f"sqlite:///{Path(tmp) / 'gradebook.db'}"],
                                    capture_output=True, text=True, cwd=ROOT)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if result.returncode != 0:
                raise SystemExit(f"grading failed:\n{result.stdout}\n{result.stderr}")
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return n / seconds, cpu / n


def bench_all_grading(assignments: list[str], n: int) -> bool:
    """Throughput of `make grade` for each notebook, on an idle machine and beside one busy process; True if
    every figure reaches the goal of one submission per second."""
    print(f"\ngrading a synthetic class of {n} submissions per notebook with `make grade` (feedback and gradebook "
          f"included) on {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before; goal >= 1 per second")
    print(f"{'notebook':<24}{'idle (/s)':>11}{'1 busy process (/s)':>22}{'CPU s per submission':>23}  verdict")
    ok = True
    for assignment in assignments:
        (idle, cpu), (busy, _) = bench_grading(assignment, n), bench_grading(assignment, n, busy=True)
        ok &= min(idle, busy) >= 1.0
        print(f"{assignment:<24}{idle:>11.2f}{busy:>22.2f}{cpu:>23.2f}  "
              f"{'goal met' if min(idle, busy) >= 1.0 else 'below goal'}")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignments to run (default: all in solutions/)")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode; the median is printed (default 3)")
    parser.add_argument("--grade", nargs="*", help="assignments of the grading benchmark (default: every notebook)")
    parser.add_argument("--class-size", type=int, default=60, help="submissions per notebook in the grading benchmark")
    parser.add_argument("--only-grading", action="store_true", help="run only the grading benchmark")
    args = parser.parse_args(argv)
    graded = args.grade or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    if args.only_grading:
        return 0 if bench_all_grading(graded, args.class_size) else 1
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
        os.environ.setdefault(var, tempfile.mkdtemp(prefix=var.lower() + "-"))
    names = args.assignments or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    print(f"median of {args.runs} runs; budgets: normal <= {BUDGET['normal']:.0f} s, grading <= "
          f"{BUDGET['grading']:.0f} s, kernel peak memory <= {BUDGET['memory_mb']:.0f} MB")
    print(f"{'notebook':<24}{'normal (s)':>12}{'grading (s)':>13}{'peak MB':>10}  verdict")
    over = False
    for name in names:
        f = bench_notebook(ROOT / "solutions" / name / f"{name}.ipynb", args.runs)
        peak = max(f["normal_mb"], f["grading_mb"])
        problems = [k for k, v, b in (("normal", f["normal"], BUDGET["normal"]),
                                      ("grading", f["grading"], BUDGET["grading"]),
                                      ("memory", peak, BUDGET["memory_mb"])) if v > b]
        over |= bool(problems)
        print(f"{name:<24}{f['normal']:>12.2f}{f['grading']:>13.2f}{peak:>10.0f}  "
              f"{'over budget: ' + ', '.join(problems) if problems else 'within budget'}")
    bench_components(args.runs)
    bench_threads(args.runs)
    bench_recurrent()
    fast = bench_all_grading(graded, args.class_size)
    return 1 if over or not fast else 0


if __name__ == "__main__":
    sys.exit(main())
