"""The longer runs behind notebook 05's tables and figures, which the notebook's 20-second budget cannot hold.

    python tools/long_runs_05.py lm      # the language-model family on load_corpus(): about 15 minutes on one core
    python tools/long_runs_05.py copy    # the delayed-copy task, 3000 steps x 3 seeds: most of an hour

Everything runs on one thread with the course's reference code and seeds, so the numbers are reproducible
(up to the timings).  The notebook quotes what this prints (LONG_RUN_LM and LONG_RUN_COPY in its cells).
"""
from __future__ import annotations

import os

if __name__ == "__main__":
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import copy_task, gate_analysis, ngram, rnn_lm, window_lm  # noqa: E402
from helpers.data.corpus import load_corpus  # noqa: E402
from helpers.stacked import stacked_cell  # noqa: E402

#: the LM family of notebook 05: (label, cell, learning rate); D = 32, H = 64, T = 16, N = 8 (train_lm's defaults)
LM_FAMILY = [("RNN", "rnn", 2.0), ("LSTM", "lstm", 4.0), ("GRU", "gru", 4.0), ("2-layer LSTM", "lstm2", 4.0)]
#: the delayed-copy settings of notebook 05: cells of about 3,150 recurrent parameters (D = 8, 4 symbols)
COPY_H = {"rnn": 52, "lstm": 24, "gru": 28}
COPY_DELAYS = (3, 5, 7, 10, 15, 20, 30, 40)


def make_cell(name):
    return stacked_cell("lstm", 2) if name == "lstm2" else name


def lm_family(epochs=20, seed=0):
    corpus = load_corpus()
    rows = []
    for n in (3, 4, 5):
        model = ngram.NGramModel(corpus, n)
        ppl = float(np.exp(-np.mean(np.log(model.kneser_ney(model.grams(corpus, "test"))))))
        rows.append((f"{n}-gram Kneser-Ney (03)", "-", ppl, None, None))
    start = time.perf_counter()
    params, history = window_lm.train_window_lm(corpus, 4, 32, 64, epochs=5, batch_size=64, lr=1.0, seed=seed,
                                                progress=False)
    seconds = (time.perf_counter() - start) / 5
    contexts, targets = window_lm.windows(corpus, "test", 4)
    rows.append(("window LM, 4 words (03)", sum(p.size for p in params.values()),
                 float(np.exp(window_lm.evaluate(params, contexts, targets))), seconds, 5))
    for label, name, lr in LM_FAMILY:
        params, history = rnn_lm.train_lm(corpus, make_cell(name), epochs=epochs, lr=lr, seed=seed, progress=False)
        test = float(np.exp(rnn_lm.evaluate_lm(params, corpus, "test", make_cell(name))))
        rows.append((f"{label}, lr {lr:g}", sum(p.size for p in params.values()), test,
                     float(np.median(history["seconds"])), history["best_epoch"] + 1))
        print(f"  {label}: dev perplexity per epoch {[round(p, 1) for p in history['dev_ppl']]}", flush=True)
        if name == "lstm":
            print(f"  {label}: forget gates on the test split: "
                  f"{gate_analysis.boundary_forgetting(params, rnn_lm.lm_stream(corpus, 'test'))}", flush=True)
    print(f"\n{'model':<28}{'parameters':>12}{'test ppl':>10}{'s/epoch':>9}{'best epoch':>12}")
    for label, size, ppl, seconds, best in rows:
        size = f"{size:,}" if isinstance(size, int) else size
        print(f"{label:<28}{size:>12}{ppl:>10.1f}" + (f"{seconds:>9.2f}{best:>12}" if seconds else ""))
    return rows


def copy_runs(steps=3000, seeds=(0, 1, 2)):
    settings = [("RNN", "rnn", {}), ("LSTM", "lstm", {}), ("GRU", "gru", {}),
                ("LSTM, forget bias 0", "lstm", {"forget_bias": 0.0}), ("GRU, b_z = -1", "gru", {"b_z": -1.0})]
    results = {}
    for label, cell, change in settings:
        accuracies = []
        for seed in seeds:
            row = []
            for k in COPY_DELAYS:
                params = rnn_lm.init_lm(4, 8, COPY_H[cell], cell, seed, np.float32)
                if "forget_bias" in change:
                    params["b_f"][:] = change["forget_bias"]
                if "b_z" in change:
                    params["b_z"][:] = change["b_z"]
                params, _ = copy_task.train_copy(k, cell, steps=steps, lr=1.0, seed=seed, params=params)
                row.append(copy_task.copy_accuracy(params, k, cell))
            accuracies.append(row)
        results[label] = np.round(np.array(accuracies), 2)
        print(f"{label:<22}" + " ".join(f"{a:.2f}" for a in np.mean(accuracies, axis=0)), flush=True)
    print(f"delays {COPY_DELAYS}; {steps} steps; mean over seeds {seeds}; per seed:")
    for label, acc in results.items():
        print(f"  {label!r}: {acc.tolist()},")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["lm", "copy"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args(argv)
    if args.what == "lm":
        lm_family(args.epochs)
    else:
        copy_runs(args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
