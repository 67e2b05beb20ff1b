"""Figures for notebook 06 (generation): the time to generate 1,000 tokens, and the character
Kneser-Ney baseline the pretrained character LSTM must beat.

    python tools/bench_sampling.py [--runs 5] [--no-ngram]

Generation: a random recurrent language model of the pretrained model's size (V = 31 characters
and V = 60, H = 256, D = 32) behind ``helpers.sampling.lm_step``, with a tanh RNN cell and with an
LSTM-sized cell (the four gate products of an LSTM in one (4H, H + D) matrix: the cost of a real LSTM
step, which lives in helpers.lstm), float64 and float32; then the pretrained character LSTM itself
(helpers.pretrained); 1,000 steps of ``generate`` with ``sampler(temperature=0.8, top_k=20, top_p=0.95)``,
one sequence, median of --runs runs.

Baseline: held-out bits per character of character Kneser-Ney, n = 2..12, with d = 0.75 and with
d tuned on dev (grid 0.50, 0.55, ..., 1.00), on dev and test of ``load_char_corpus()``; and the time
to generate 1,000 characters from the 8-gram model through ``ngram_step``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from helpers.cells import Cell, get_cell
from helpers.sampling import generate, lm_step, ngram_step, sampler


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def timing_cell(kind):
    """A Cell with only what generation needs (step, zero_state): 'rnn' h = tanh(Wx x + Wh h + b);
    'lstm' the LSTM's gates from one (4H, H + D) product."""
    def rnn_step(x, h, p):
        h = np.tanh(p["Wx"] @ x + p["Wh"] @ h + p["b"])
        return h, h

    def lstm_step(x, state, p):
        h, c = state
        H = h.shape[0]
        z = p["W"] @ np.concatenate([h, x]) + p["b"]
        f, i, o = _sigmoid(z[:H]), _sigmoid(z[H:2 * H]), _sigmoid(z[2 * H:3 * H])
        c = f * c + i * np.tanh(z[3 * H:])
        h = o * np.tanh(c)
        return h, (h, c)

    def unused(*args):
        raise NotImplementedError

    if kind == "rnn":
        return Cell("rnn", ("Wx", "Wh", "b"), unused, unused, unused, unused, rnn_step,
                    lambda H, N, dtype: np.zeros((H, N), dtype))
    return Cell("lstm", ("W", "b"), unused, unused, unused, unused, lstm_step,
                lambda H, N, dtype: (np.zeros((H, N), dtype), np.zeros((H, N), dtype)))


def random_lm(kind, V, H, D, dtype, rng):
    p = {"E": rng.normal(size=(D, V)), "U": rng.normal(scale=H ** -0.5, size=(V, H)), "b2": np.zeros((V, 1))}
    if kind == "rnn":
        p.update(Wx=rng.normal(scale=D ** -0.5, size=(H, D)), Wh=rng.normal(scale=H ** -0.5, size=(H, H)),
                 b=np.zeros((H, 1)))
    else:
        p.update(W=rng.normal(scale=(H + D) ** -0.5, size=(4 * H, H + D)), b=np.zeros((4 * H, 1)))
    return {k: v.astype(dtype) for k, v in p.items()}


def bench_generation(runs, n_tokens=1000, H=256, D=32):
    print(f"generate {n_tokens:,} tokens, one sequence, sampler(temperature=0.8, top_k=20, top_p=0.95), "
          f"H = {H}, D = {D} (median of {runs} runs):")
    choose = sampler(temperature=0.8, top_k=20, top_p=0.95)
    for kind in ("rnn", "lstm"):
        cell = timing_cell(kind)
        for V in (31, 60):
            for dtype in (np.float64, np.float32):
                rng = np.random.default_rng(0)
                step = lm_step(random_lm(kind, V, H, D, dtype, rng), cell)
                times = []
                for _ in range(runs):
                    start = time.perf_counter()
                    generate(step, cell.zero_state(H, 1, dtype), np.array([1]), n_tokens, choose, rng)
                    times.append(time.perf_counter() - start)
                seconds = statistics.median(times)
                print(f"  {kind:<5} V = {V:<3} {np.dtype(dtype).name:<8} {seconds:.3f} s "
                      f"({1e6 * seconds / n_tokens:.0f} µs per token)")
    from helpers.pretrained import load_char_lstm
    params, _ = load_char_lstm()
    step, H, times = lm_step(params, "lstm"), params["U"].shape[1], []
    for _ in range(runs):
        start = time.perf_counter()
        generate(step, get_cell("lstm").zero_state(H, 1, np.float32), np.array([2]), n_tokens, choose,
                 np.random.default_rng(0))
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(f"  the pretrained character LSTM (helpers.pretrained, H = {H}, float32): {seconds:.3f} s "
          f"({1e6 * seconds / n_tokens:.0f} µs per token)")


def bench_ngram():
    from helpers.data.chars import bits_per_character, load_char_corpus
    from helpers.ngram import NGramModel

    corpus = load_char_corpus()
    print(f"\ncharacter Kneser-Ney, bits per character ({corpus.source}, checksum {corpus.checksum[:12]}…; "
          f"{corpus.n_tokens('dev'):,} dev and {corpus.n_tokens('test'):,} test characters):")
    print(f"  {'n':>2}  {'dev d=.75':>9}  {'test d=.75':>10}  {'d tuned':>7}  {'dev':>6}  {'test':>6}")
    grid = np.round(np.arange(0.5, 1.0001, 0.05), 2)
    for n in range(2, 13):
        model = NGramModel(corpus, n)
        dev = {d: bits_per_character(model, corpus, "dev", d) for d in grid}
        d = min(dev, key=dev.get)
        print(f"  {n:>2}  {dev[0.75]:>9.3f}  {bits_per_character(model, corpus, 'test', 0.75):>10.3f}  {d:>7.2f}  "
              f"{dev[d]:>6.3f}  {bits_per_character(model, corpus, 'test', d):>6.3f}")
    model = NGramModel(corpus, 8)
    start = time.perf_counter()
    generate(ngram_step(model, 0.85), np.full((7, 1), 1), np.array([1]), 1000, sampler(0.8), np.random.default_rng(0))
    print(f"generate 1,000 characters from the 8-gram model (ngram_step): {time.perf_counter() - start:.3f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per configuration; the median is printed")
    parser.add_argument("--no-ngram", action="store_true", help="skip the character n-gram table")
    args = parser.parse_args(argv)
    bench_generation(args.runs)
    if not args.no_ngram:
        bench_ngram()
    return 0


if __name__ == "__main__":
    sys.exit(main())
