"""Figures used by the notebooks.  Each function returns a matplotlib Figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .activations import get_activation
from .validate import as_float_array, require_shape

COLORS = {"sigmoid": "tab:blue", "tanh": "tab:orange", "relu": "tab:green", "identity": "tab:gray"}


def plot_activations(names=("sigmoid", "tanh", "relu"), zmax=6.0, flat=0.05, functions=None):
    """Each activation f(z) beside its derivative f'(z).

    Where |f'(z)| < ``flat`` the unit is saturated: a gradient passing
    through it is multiplied by almost 0.  Those regions are shaded red.
    functions: {name: (f, f')} drawn instead of the course's own (e.g. the student's functions).
    """
    functions = functions or {}
    pairs = [get_activation(functions.get(name, name)) for name in names]
    z = np.linspace(-zmax, zmax, 601)
    fig, axes = plt.subplots(len(names), 2, figsize=(9, 2.3 * len(names)), sharex=True, squeeze=False)
    for row, name, (f, f_grad) in zip(axes, names, pairs):
        dz = f_grad(z)
        for ax, values, label in ((row[0], f(z), f"{name}(z)"), (row[1], dz, f"{name}'(z)")):
            ax.plot(z, values, color=COLORS.get(name), lw=2)
            ax.fill_between(z, 0, 1, where=np.abs(dz) < flat, transform=ax.get_xaxis_transform(),
                            color="tab:red", alpha=0.12)
            ax.axhline(0, color="k", lw=0.5)
            ax.axvline(0, color="k", lw=0.5)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("pre-activation z")
    axes[0, 0].set_title("activation f(z)")
    axes[0, 1].set_title("derivative f'(z)")
    fig.legend(handles=[Patch(color="tab:red", alpha=0.12, label=f"saturated: |f'(z)| < {flat}")],
               loc="lower center", ncol=1, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def _grid(X, steps=200, margin=0.5):
    """A (2, steps*steps) grid covering the points X (2, N), and its two axes."""
    lo, hi = X.min(axis=1) - margin, X.max(axis=1) + margin
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    return np.vstack([g1.ravel(), g2.ravel()]), g1, g2


def plot_decision_boundaries(X, y, models, steps=200):
    """Decision regions of several classifiers on 2-D points.

    X: (2, N) points, y: (1, N) labels in {0, 1}.
    models: list of (title, predict) where predict maps (2, M) points to (1, M) probabilities of class 1.
    """
    X = as_float_array(X, "X", "plot_decision_boundaries", ndim=2)
    require_shape(X, (2, None), "X", "plot_decision_boundaries")
    y = as_float_array(y, "y", "plot_decision_boundaries", ndim=2)
    require_shape(y, (1, X.shape[1]), "y", "plot_decision_boundaries")
    grid, g1, g2 = _grid(X, steps)
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.5), squeeze=False)
    for ax, (title, predict) in zip(axes[0], models):
        p = predict(grid).reshape(g1.shape)
        accuracy = np.mean((predict(X) > 0.5) == (y > 0.5))
        ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=1.5)
        for label, color, marker in ((0, "tab:blue", "o"), (1, "tab:red", "^")):
            mine = y[0] == label
            ax.scatter(X[0, mine], X[1, mine], c=color, marker=marker, edgecolors="white", linewidths=0.6, s=24)
        ax.set_title(f"{title}\naccuracy {accuracy:.0%}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_fits(x, y, fits, title=None, xlim=None):
    """1-D regression: the data points and one curve per fit.

    x, y: (1, N).  fits: list of (label, predict) where predict maps (1, M) inputs to (1, M) outputs.
    """
    x = as_float_array(x, "x", "plot_fits", ndim=2)
    require_shape(x, (1, None), "x", "plot_fits")
    y = as_float_array(y, "y", "plot_fits", ndim=2)
    require_shape(y, (1, x.shape[1]), "y", "plot_fits")
    lo, hi = xlim or (x.min() - 0.5, x.max() + 0.5)
    grid = np.linspace(lo, hi, 400)[None, :]
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.scatter(x[0], y[0], s=14, color="k", alpha=0.6, label="data")
    for label, predict in fits:
        ax.plot(grid[0], predict(grid)[0], lw=2, label=label)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_scale_shift(activation="sigmoid", ws=(0.5, 1, 2, 5), bs=(-4, -2, 0, 2, 4), xmax=6.0):
    """f(w x + b): left, several w with b = 0 (w scales: steeper or flatter);
    right, several b with w = 1 (b shifts the curve by -b/w along x)."""
    f, _ = get_activation(activation)
    x = np.linspace(-xmax, xmax, 400)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for w in ws:
        left.plot(x, f(w * x), lw=2, label=f"w = {w:g}")
    for b in bs:
        right.plot(x, f(x + b), lw=2, label=f"b = {b:g}")
    left.set_title(f"{activation}(w·x): the weight w scales")
    right.set_title(f"{activation}(x + b): the bias b shifts")
    for ax in (left, right):
        ax.axvline(0, color="k", lw=0.5)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_training(history, title=None):
    """Loss and accuracy per epoch.  history: dict with the list "loss" and, drawn when present, "dev_loss",
    "train_acc" and "dev_acc" (a history from your own train_classifier may hold only "loss")."""
    epochs = np.arange(1, len(history["loss"]) + 1)
    accuracies = [(k, label) for k, label in (("train_acc", "train"), ("dev_acc", "dev")) if k in history]
    fig, axes = plt.subplots(1, 2 if accuracies else 1, figsize=(10 if accuracies else 5.5, 3.5), squeeze=False)
    left = axes[0, 0]
    left.plot(epochs, history["loss"], "o-", label="train (mean over the epoch)")
    if "dev_loss" in history:
        left.plot(epochs, history["dev_loss"], "s-", label="dev (after the epoch)")
    left.set_ylabel("binary cross-entropy")
    for (key, label), marker in zip(accuracies, "os"):
        axes[0, 1].plot(epochs, history[key], f"{marker}-", label=label)
        axes[0, 1].set_ylabel("accuracy")
    for ax in axes[0]:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_word_scores(words, scores, k=12):
    """The k most negative and k most positive words by their score (one bar each)."""
    order = np.argsort(scores)
    picked = np.concatenate([order[:k], order[-k:]])
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(picked) + 1))
    values = np.asarray(scores)[picked]
    ax.barh(np.arange(len(picked)), values, color=np.where(values > 0, "tab:red", "tab:blue"))
    ax.set_yticks(np.arange(len(picked)), [words[i] for i in picked], fontsize=9)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("score s of the word alone (its vector as the whole sentence)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_accuracy_by_kind(results, kinds):
    """Grouped bars: results maps a model's name to {kind: accuracy}."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / len(results)
    for i, (model, accuracies) in enumerate(results.items()):
        x = np.arange(len(kinds)) + (i - (len(results) - 1) / 2) * width
        bars = ax.bar(x, [accuracies[k] for k in kinds], width, label=model)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.axhline(0.5, color="k", ls="--", lw=1, label="chance")
    ax.set_xticks(np.arange(len(kinds)), kinds)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("dev accuracy")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms):
    """||dJ/dW^l|| against the layer l, log scale.  norms: dict label -> array of L norms (layer 1 first)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for label, values in norms.items():
        ax.semilogy(np.arange(1, len(values) + 1), values, "o-", ms=3, label=label)
    ax.set_xlabel("layer l (1 = next to the input)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("||dJ/dW^l||")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_sparsity_and_storage(ns, unseen, distinct, neural_parameters):
    """Left: the share of test n-grams never seen in training, per n.  Right: the number of distinct
    training n-grams per n (each stored with a count) against the parameter count of the neural LM."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.bar(ns, unseen, color="tab:red")
    left.bar_label(left.containers[0], labels=[f"{u:.0%}" for u in unseen], fontsize=9)
    left.set_ylim(0, 1.05)
    left.set_xlabel("n")
    left.set_ylabel("share of test n-grams unseen in training")
    right.plot(ns, distinct, "o-", label="distinct n-grams in training (table entries)")
    right.axhline(neural_parameters, color="tab:green", ls="--", label="window neural LM: parameters")
    right.set_yscale("log")
    right.set_xlabel("n")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.set_xticks(ns)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_next_word(distributions, vocab, k=10):
    """Side-by-side bars of the k most probable next words of each model.  distributions: name -> (V,)."""
    fig, axes = plt.subplots(1, len(distributions), figsize=(4.6 * len(distributions), 3.4), squeeze=False)
    for ax, (name, p) in zip(axes[0], distributions.items()):
        top = np.argsort(-p)[:k][::-1]  # the most probable at the top; all V words when k > V
        ax.barh(np.arange(len(top)), p[top], color="tab:blue")
        ax.set_yticks(np.arange(len(top)), [vocab[i] for i in top], fontsize=9)
        ax.set_xlabel("P(next word)")
        ax.set_title(name, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- 06_generation: generating text


def char_labels(vocab):
    """Printable labels of a character vocabulary: the space as '␣', </s> (a line break) as '⏎', <s> (never
    predicted) as nothing."""
    return [{" ": "␣", "</s>": "⏎", "<s>": ""}.get(c, c) for c in vocab]


def _bars(ax, x, heights, width, color, label=None):
    """Vertical bars as one collection of rectangles (a bar chart of 31 bars per panel, drawn five times faster
    than by ax.bar's one artist per bar); heights[i] is bar i's height."""
    from matplotlib.collections import PolyCollection
    left, right = np.asarray(x) - width / 2, np.asarray(x) + width / 2
    heights = np.asarray(heights, dtype=float)
    corners = np.stack([np.column_stack([left, np.zeros_like(heights)]), np.column_stack([left, heights]),
                        np.column_stack([right, heights]), np.column_stack([right, np.zeros_like(heights)])], axis=1)
    ax.add_collection(PolyCollection(corners, facecolors=color, edgecolors="none", label=label))
    ax.set_xlim(-0.7, len(heights) - 0.3)


def bar_heights(ax):
    """The heights of the bars drawn by _bars on ax, one array per collection, in drawing order (for tests)."""
    return [np.array([path.vertices[1, 1] for path in c.get_paths()]) for c in ax.collections]


def plot_char_distributions(panels, vocab, title=None, ncols=None, legend=("before filtering", "sampled from")):
    """Next-character distributions, one panel each, on one shared probability axis.

    panels: {panel title: probs (V,)} or {panel title: (behind (V,), in front (V,))}, e.g. the distribution
    before filtering drawn in light grey behind the filtered one; legend: the labels of the two.
    vocab: the V symbols.
    """
    labels = char_labels(vocab)
    ncols = ncols or min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 2.6 * nrows), sharey=True, squeeze=False)
    x = np.arange(len(labels))
    for ax, (name, probs) in zip(axes.flat, panels.items()):
        before, after = probs if isinstance(probs, tuple) else (None, probs)
        if before is not None:
            _bars(ax, x, before, 0.85, "0.78", legend[0])
        _bars(ax, x, after, 0.5, "tab:blue", legend[1] if before is not None else None)
        ax.set_ylim(0, 1.05 * max(np.max(after), 0 if before is None else np.max(before), 1e-9))
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_title(name, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("P(next character)")
    pairs = [ax for ax, p in zip(axes.flat, panels.values()) if isinstance(p, tuple)]
    if pairs:
        pairs[0].legend(fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_bits_per_character(ns, ngram_bits, neural_bits, zoom_from=4, title=None):
    """Held-out bits per character of character n-gram models against n, with neural models as dashed lines;
    on the right the same for n >= zoom_from, zoomed in.

    ngram_bits: {label: (len(ns),) bits};  neural_bits: {label: bits} drawn as horizontal dashed lines."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": (1.3, 1)})
    ns = np.asarray(ns)
    for ax, shown in zip(axes, (ns >= ns.min(), ns >= zoom_from)):
        for (label, bits), marker in zip(ngram_bits.items(), "os^"):
            ax.plot(ns[shown], np.asarray(bits)[shown], f"{marker}-", label=label)
        for (label, bits), color in zip(neural_bits.items(), ("tab:red", "tab:purple", "tab:brown")):
            ax.axhline(bits, color=color, ls="--", label=f"{label}: {bits:.3f}")
        ax.set_xticks(ns[shown])
        ax.set_xlabel("n (the n-gram model reads the n - 1 previous characters)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("bits per character (lower is better)")
    axes[1].set_title(f"zoomed in: n >= {zoom_from}", fontsize=9)
    axes[1].legend(fontsize=8, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_bits_per_epoch(bits, baseline=None):
    """Dev bits per character after each epoch of training (epoch 1 first), and a baseline as a dashed line:
    baseline (label, bits) or None."""
    fig, ax = plt.subplots(figsize=(6, 3.2))
    epochs = np.arange(1, len(bits) + 1)
    ax.plot(epochs, bits, "o-", label="the model being trained")
    if baseline is not None:
        ax.axhline(baseline[1], color="tab:red", ls="--", label=f"{baseline[0]}: {baseline[1]:.2f}")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("dev bits per character")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_quality_diversity(sweeps, points, n):
    """The model's own log-likelihood of its samples (y, bits per character) against their diversity
    (x, distinct-n).

    sweeps: {label: (distinct (K,), bits (K,), setting labels (K,))}, drawn as lines with each setting
    annotated;  points: {label: (distinct, bits)} single markers (greedy, beam search, real text)."""
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    for label, (distinct, bits, names) in sweeps.items():
        line, = ax.plot(distinct, bits, "o-", label=label)
        for x, y, name in zip(distinct, bits, names):
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7, color=line.get_color())
    for (label, (x, y)), marker in zip(points.items(), "s*DPX"):
        ax.plot([x], [y], marker, ms=11 if marker == "*" else 8, ls="none", label=label)
    ax.set_xlabel(f"diversity: distinct-{n} (share of distinct character {n}-grams)")
    ax.set_ylabel("log-likelihood under the model\n(log2 P per character; higher: more typical)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def plot_beam_width(widths, logprobs, seconds, greedy=None, title=None):
    """Left: the log-probability of the sequence beam search finds against the beam width; right: its run time.
    widths, logprobs (nats), seconds: (K,);  greedy: greedy decoding's log-probability, a dashed line."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    if title:
        fig.suptitle(title, fontsize=10)
    left.plot(widths, logprobs, "o-")
    if greedy is not None:
        left.axhline(greedy, color="tab:gray", ls="--", label=f"greedy decoding: {greedy:.2f}")
        left.legend(fontsize=8, loc="lower right")
    left.set_ylabel("log P(found continuation) (nats)")
    right.plot(widths, np.asarray(seconds) * 1000, "o-", color="tab:orange")
    right.set_ylabel("run time (ms)")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(widths, [str(w) for w in widths])
        ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.set_xlabel("beam width")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
