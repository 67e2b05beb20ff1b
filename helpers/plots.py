"""Figures used by the notebooks.  Each function returns a matplotlib Figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

from .activations import get_activation
from .validate import as_float_array, require_shape

COLORS = {"sigmoid": "tab:blue", "tanh": "tab:orange", "relu": "tab:green", "identity": "tab:gray"}


def plain_log_ticks(ax, axis="y"):
    """Label a log axis with plain numbers (0.3, 2, 5,000) instead of 3x10^-1: ticks at 1, 2 and 5 times the
    powers of ten, and no minor labels.  For axes spanning a few decades; many decades read better as 10^k."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.6g}"))
    target.set_minor_formatter(FuncFormatter(lambda v, _: ""))


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
        ax.set_xlabel("feature $x_1$")
    axes[0, 0].set_ylabel("feature $x_2$")
    fig.legend(handles=[Patch(color="tab:red", alpha=0.6, label="predicted: red class (triangles)"),
                        Patch(color="tab:blue", alpha=0.6, label="predicted: blue class (dots)"),
                        plt.Line2D([], [], color="k", label="decision boundary, P = 0.5")],
               loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
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
    """Grouped bars: results maps a model's name to {kind: accuracy}; the legend sits above the axes."""
    rows = -(-(len(results) + 1) // 3)  # legend rows of at most three entries
    fig, ax = plt.subplots(figsize=(max(8, 2.2 * len(kinds)), 3.4 + 0.25 * rows))
    width = 0.8 / len(results)
    for i, (model, accuracies) in enumerate(results.items()):
        x = np.arange(len(kinds)) + (i - (len(results) - 1) / 2) * width
        bars = ax.bar(x, [accuracies[k] for k in kinds], width, label=model)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.axhline(0.5, color="k", ls="--", lw=1, label="chance")
    ax.set_xticks(np.arange(len(kinds)), kinds)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("kind of sentence")
    ax.set_ylabel("dev accuracy")
    ax.set_title("accuracy on the dev sentences of each kind", fontsize=10, pad=12 + 16 * rows)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(3, len(results) + 1), frameon=False)
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms):
    """||dJ/dW^l|| against the layer l, log scale.  norms: dict label -> array of L norms (layer 1 first)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for label, values in norms.items():
        ax.semilogy(np.arange(1, len(values) + 1), values, "o-", ms=3, label=label)
    ax.set_xlabel("layer $l$ (1 = next to the input)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(r"gradient norm $\|\partial J / \partial W^l\|$")
    ax.set_title("how much gradient reaches each layer (log scale)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_sparsity_and_storage(ns, unseen, distinct, neural_parameters):
    """Left: the share of test n-grams never seen in training, per n.  Right: the number of distinct
    training n-grams per n (each stored with a count) against the parameter count of the neural LM."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.bar(ns, unseen, color="tab:red")
    left.bar_label(left.containers[0], labels=[f"{u:.0%}" for u in unseen], fontsize=9)
    left.set_ylim(0, 1.05)
    left.set_xlabel("order n of the model")
    left.set_ylabel("share of test n-grams unseen in training")
    left.set_title("sparsity: unseen test n-grams", fontsize=10)
    right.plot(ns, distinct, "o-", label="n-gram model: table entries (orders 1..n)")
    right.axhline(neural_parameters, color="tab:green", ls="--", label="window neural LM: parameters")
    right.set_yscale("log")
    plain_log_ticks(right)
    right.set_xlabel("order n of the model")
    right.set_ylabel("numbers stored (log scale)")
    right.set_title("storage: what each model keeps", fontsize=10)
    right.legend(fontsize=8, loc="lower right")
    for ax in (left, right):
        ax.set_xticks(ns)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_next_word(distributions, vocab, k=10):
    """Side-by-side bars of the k most probable next words of each model.  distributions: name -> (V,)."""
    fig, axes = plt.subplots(1, len(distributions), figsize=(4.6 * len(distributions), 3.4), squeeze=False,
                             sharex=True)  # one probability scale, so the models compare at a glance
    for ax, (name, p) in zip(axes[0], distributions.items()):
        top = np.argsort(-p)[:k][::-1]  # the most probable at the top; all V words when k > V
        ax.barh(np.arange(len(top)), p[top], color="tab:blue")
        ax.set_yticks(np.arange(len(top)), [vocab[i] for i in top], fontsize=9)
        ax.set_xlabel("P(next word)")
        ax.set_title(name, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_loss_curves(curves, title=None, xlabel="step", ylabel="J"):
    """Loss against the step for several runs, on a log scale labelled with plain numbers.
    curves: {label: losses (steps,)}."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for label, losses in curves.items():
        ax.plot(np.arange(len(losses)), losses, label=label)
    ax.set_yscale("log")
    plain_log_ticks(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{ylabel} (log scale)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- notebook 04: the RNN-LM and its gradients


def _radius_colors(radii):
    """A colour per spectral radius: blues below 1 (darker further from 1), black at 1, reds above."""
    cmap = plt.get_cmap("coolwarm")
    span = max(max(abs(np.log(r)) for r in radii if r > 0), 1e-9)
    return {r: "k" if np.isclose(r, 1.0) else cmap(0.5 + np.sign(np.log(r)) * (0.22 + 0.28 * abs(np.log(r)) / span))
            for r in radii}


def _decade_ticks(ax, axis="y"):
    """A log axis labelled at powers of ten only (10^k), no minor labels: for curves that span many decades."""
    from matplotlib.ticker import LogFormatterMathtext, NullFormatter
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(LogLocator(base=10, numticks=9))
    target.set_major_formatter(LogFormatterMathtext(base=10))
    target.set_minor_formatter(NullFormatter())


def plot_gradient_norms_through_time(curves, title=None):
    """||dJ/dh_t|| against the distance T - t, log scale: one panel per activation, one line per spectral radius.

    curves: {activation: {radius: norms (T,)}}, norms[k] the norm at distance k (as gradient_norms_through_time
    returns them).  The panels share the y axis; the dashed line marks 1 (the size of dJ/dh_T)."""
    radii = sorted({r for by_radius in curves.values() for r in by_radius})
    colors = _radius_colors(radii)
    fig, axes = plt.subplots(1, len(curves), figsize=(5.2 * len(curves) + 1.6, 3.9), sharey=True, squeeze=False)
    positive = [v for by_radius in curves.values() for n in by_radius.values() for v in np.asarray(n) if v > 0]
    for ax, (activation, by_radius) in zip(axes[0], curves.items()):
        for r in radii:
            if r in by_radius:
                norms = np.asarray(by_radius[r], dtype=float)
                ax.semilogy(np.arange(len(norms)), np.where(norms > 0, norms, np.nan), color=colors[r], lw=2,
                            label=f"radius {r:g}")
        ax.axhline(1.0, color="0.5", ls="--", lw=1)
        ax.set_title(f"f = {activation}", fontsize=10)
        ax.set_xlabel("distance T - t (steps back in time)")
        ax.grid(alpha=0.3, which="major")
    axes[0, 0].set_ylabel(r"$\|\partial J / \partial h_t\|$ (log scale)")
    if positive:
        axes[0, 0].set_ylim(max(min(positive), 1e-40) / 3, max(positive) * 3)
    _decade_ticks(axes[0, 0])
    axes[0, -1].legend(title="spectral radius\nof $W_h$", fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_gradient_norm_curve(norms, radius, activation):
    """One curve ||dJ/dh_t|| against the distance (log scale), beside radius^k, the identity RNN's exact curve
    for a W_h whose singular values all equal the radius (the widget's figure)."""
    norms = np.asarray(norms, dtype=float)
    k = np.arange(len(norms))
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    with np.errstate(over="ignore", divide="ignore"):
        power = float(radius) ** k
    ax.semilogy(k, power, color="0.6", ls="--", lw=1.5, label=f"radius$^k$ = {radius:g}$^k$")
    ax.semilogy(k, np.where(norms > 0, norms, np.nan), color=COLORS.get(activation, "tab:blue"), lw=2.5,
                label=f"f = {activation}")
    ax.axhline(1.0, color="k", lw=0.5)
    finite = norms[np.isfinite(norms) & (norms > 0)]
    tail = finite[len(finite) // 2:]
    factor = np.exp(np.mean(np.diff(np.log(tail)))) if len(tail) > 1 else np.nan
    ax.set_title(f"f = {activation}, spectral radius {radius:g}: measured factor per step {factor:.3g}", fontsize=10)
    ax.set_xlabel("distance T - t (steps back in time)")
    ax.set_ylabel(r"$\|\partial J / \partial h_t\|$ (log scale)")
    shown = np.concatenate([finite, power[np.isfinite(power) & (power > 0)], [1.0]])
    ax.set_ylim(max(shown.min(), 1e-40) / 3, min(shown.max(), 1e40) * 3)
    _decade_ticks(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_clipping(gradients, norm_clipped, value_clipped, threshold):
    """Two-dimensional gradients as arrows from 0, before (grey) and after clipping (colour): left by norm (each
    arrow shortened onto the circle of radius ``threshold``, its direction kept), right by value (each component
    cut to [-threshold, threshold]: the arrow ends in the square and turns).  Arrays of shape (M, 2)."""
    gradients, norm_clipped, value_clipped = (np.asarray(a, dtype=float) for a in (gradients, norm_clipped,
                                                                                   value_clipped))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharex=True, sharey=True)
    extent = 1.1 * max(np.abs(gradients).max(), threshold)
    panels = ((axes[0], norm_clipped, rf"clip by norm: $\|g\| \leq {threshold:g}$", "tab:blue"),
              (axes[1], value_clipped, rf"clip by value: $|g_i| \leq {threshold:g}$", "tab:red"))
    for ax, clipped, title, color in panels:
        ax.quiver(np.zeros(len(gradients)), np.zeros(len(gradients)), gradients[:, 0], gradients[:, 1],
                  angles="xy", scale_units="xy", scale=1, color="0.75", width=0.006, label="gradient g")
        ax.quiver(np.zeros(len(clipped)), np.zeros(len(clipped)), clipped[:, 0], clipped[:, 1], angles="xy",
                  scale_units="xy", scale=1, color=color, width=0.008, label="clipped")
        for g, c in zip(gradients, clipped):
            ax.plot([g[0], c[0]], [g[1], c[1]], ":", color=color, lw=0.8)
        if ax is axes[0]:
            ax.add_patch(plt.Circle((0, 0), threshold, fill=False, ls="--", color="k", lw=1))
        else:
            ax.add_patch(plt.Rectangle((-threshold, -threshold), 2 * threshold, 2 * threshold, fill=False, ls="--",
                                       color="k", lw=1))
        ax.set_aspect("equal")
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.axhline(0, color="k", lw=0.4)
        ax.axvline(0, color="k", lw=0.4)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("gradient component $g_1$")
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel("gradient component $g_2$")
    fig.tight_layout()
    return fig


def plot_lm_training(history, reference=None, title=None):
    """A language model's training (history of helpers.rnn_lm.train_lm): left, the loss of every step and its mean
    per epoch; right, the dev perplexity after each epoch, with reference={label: dev perplexity} as lines."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    losses = np.asarray(history["loss"], dtype=float)
    per_epoch = len(losses) // max(len(history["train_nll"]), 1)
    left.plot(np.arange(1, len(losses) + 1), losses, color="tab:blue", alpha=0.35, lw=0.8, label="one step")
    ends = per_epoch * np.arange(1, len(history["train_nll"]) + 1)
    left.plot(ends, history["train_nll"], "o-", color="tab:blue", label="mean over the epoch")
    left.set_xlabel("training step (one window of T N words)")
    left.set_ylabel("training loss J (nats per word)")
    left.set_title("training loss", fontsize=10)
    epochs = np.arange(1, len(history["dev_ppl"]) + 1)
    right.plot(epochs, history["dev_ppl"], "o-", color="tab:orange", lw=2, label="RNN-LM")
    if history.get("best_epoch") is not None:
        b = history["best_epoch"]
        right.plot(b + 1, history["dev_ppl"][b], "*", ms=14, color="tab:red", label=f"best epoch ({b + 1})")
    for (label, value), ls in zip((reference or {}).items(), ("--", ":", "-.")):
        right.axhline(value, color="0.35", ls=ls, lw=1.2, label=f"{label}: {value:.1f}")
    right.set_xlabel("epoch")
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_ylabel("dev perplexity")
    right.set_title("dev perplexity after each epoch", fontsize=10)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_mix_weight(weights, perplexities, best):
    """Dev perplexity of the mix  w P_RNN + (1 - w) P_KN  against the weight w: Kneser-Ney alone at w = 0,
    the RNN-LM alone at w = 1, the weight chosen on dev marked."""
    weights, perplexities = np.asarray(weights, dtype=float), np.asarray(perplexities, dtype=float)
    fig, ax = plt.subplots(figsize=(6.8, 3.6))
    ax.plot(weights, perplexities, "o-", ms=3, color="tab:purple", lw=2)
    i = int(np.argmin(np.abs(weights - best)))
    ax.plot(best, perplexities[i], "*", ms=15, color="tab:red", label=f"chosen on dev: w = {best:g}, "
                                                                       f"perplexity {perplexities[i]:.1f}")
    ax.annotate(f"Kneser-Ney alone\n{perplexities[0]:.1f}", (weights[0], perplexities[0]), textcoords="offset points",
                xytext=(6, 6), fontsize=8, va="bottom")
    ax.annotate(f"RNN-LM alone\n{perplexities[-1]:.1f}", (weights[-1], perplexities[-1]), textcoords="offset points",
                xytext=(-8, -4), fontsize=8, ha="right", va="top")
    ax.set_xlabel("weight w of the RNN-LM in the mix")
    ax.set_ylabel("dev perplexity of the mix")
    ax.set_title("interpolating the RNN-LM with Kneser-Ney (4-gram)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center")
    fig.tight_layout()
    return fig


def plot_truncation(Ts, dev_ppl, seconds, largest_norms, epochs):
    """Truncated BPTT against the truncation length T (log scale, plain ticks): the dev perplexity after ``epochs``
    epochs (log scale), the training time per epoch, and the largest gradient norm met (log scale).
    Ts, dev_ppl, seconds, largest_norms: one value per T."""
    Ts = np.asarray(Ts)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    panels = ((dev_ppl, f"dev perplexity after {epochs} epochs", "quality (lower is better)", "tab:orange", "o", True),
              (seconds, "seconds per epoch", "cost", "tab:green", "s", False),
              (largest_norms, "largest gradient norm ||g|| met", "explosions", "tab:red", "D", True))
    for ax, (values, ylabel, title, color, marker, log) in zip(axes, panels):
        ax.plot(Ts, values, f"{marker}-", color=color, lw=2)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        if log:
            ax.set_yscale("log")
            plain_log_ticks(ax)
        else:
            ax.set_ylim(bottom=0)
        ax.set_xscale("log", base=2)
        ax.set_xticks(Ts, [str(t) for t in Ts])
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.set_xlabel("truncation length T")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_clipping_runs(histories, title=None):
    """The cliff: the loss (left) and the gradient norm before clipping (right, log scale) at every training step of
    several runs.  histories: {label: history of helpers.rnn_lm.train_lm}; a run that diverged ends with an x."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.9), sharex=True)
    for (label, h), color in zip(histories.items(), ("tab:red", "tab:orange", "tab:blue", "tab:green")):
        steps = np.arange(1, len(h["loss"]) + 1)
        loss, norm = np.asarray(h["loss"], dtype=float), np.asarray(h["grad_norm"], dtype=float)
        left.plot(steps, loss, color=color, lw=1, label=label)
        right.semilogy(steps, np.where(norm > 0, norm, np.nan), color=color, lw=1, label=label)
        if h.get("diverged") is not None:
            left.plot(steps[-1], min(loss[np.isfinite(loss)][-1:], default=0), "x", color=color, ms=10, mew=2)
    left.set_ylabel("training loss J (nats per word)")
    left.set_title("loss of every step", fontsize=10)
    right.set_ylabel(r"gradient norm $\|g\|$ before clipping (log scale)")
    right.set_title("size of every step's gradient", fontsize=10)
    plain_log_ticks(right)
    for ax in (left, right):
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_copy_accuracy(ks, accuracies, chance):
    """Accuracy on the delayed-copy task against the delay k, one line per model, with the chance level.
    accuracies: {label: (len(ks),) accuracies}.  Notebook 05 adds the LSTM and the GRU to notebook 04's RNN."""
    ks = np.asarray(ks)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for (label, acc), marker in zip(accuracies.items(), "osD^v"):
        ax.plot(ks, acc, f"{marker}-", lw=2, label=label)
    ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance (1/{round(1 / chance)})")
    ax.set_ylim(0, 1.05)
    ax.set_xticks(ks)
    ax.set_xlabel("delay k (the answer is the token read k steps earlier)")
    ax.set_ylabel("accuracy on new sequences")
    ax.set_title("how far back can the network remember?", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- notebook 05: LSTM and GRU

MARKERS = ("s", "o", "^", "D", "v")
CELL_COLORS = {"RNN": "tab:gray", "LSTM": "tab:blue", "GRU": "tab:orange", "Kneser-Ney": "tab:green",
               "window": "tab:purple"}


def _cell_color(label):
    """The colour of the model a label names by its first words ('LSTM, forget bias 0' and '2-layer LSTM' ->
    the LSTM's, '5-gram Kneser-Ney (03)' -> the n-grams', 'window LM (03)' -> the window LM's)."""
    words = label.split(",")[0].split(" (")[0].split()
    for name, color in CELL_COLORS.items():
        if name in words:
            return color
    return None


def plot_accuracy_against_delay(panels, chance=0.25):
    """Delayed-copy accuracy against the delay k, one panel per run, one line per model, shared axes.

    panels: list of (title, ks, {label: accuracies}); accuracies (len(ks),), or (seeds, len(ks)) drawn as the
    mean with the range over the seeds shaded.  Labels starting with RNN, LSTM or GRU get that cell's colour;
    a label with a comma (a variant, 'LSTM, forget bias 0') is dashed; each line has its own marker, and the
    earlier lines are wider, so that a curve equal to a later one still shows."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.6), sharey=True, squeeze=False)
    for ax, (title, ks, curves) in zip(axes[0], panels):
        for k, (label, values) in enumerate(curves.items()):
            values = np.atleast_2d(np.asarray(values, dtype=float))
            style = "--" if "," in label else "-"
            width = max(1.5, 4.0 - 0.8 * k)                  # earlier lines wider: equal curves stay visible
            ax.plot(ks, values.mean(axis=0), style, marker=MARKERS[k % len(MARKERS)], ms=5, lw=width,
                    color=_cell_color(label), label=label)
            if len(values) > 1:
                ax.fill_between(ks, values.min(axis=0), values.max(axis=0), color=_cell_color(label), alpha=0.15)
        ax.axhline(chance, color="k", ls=":", lw=1, label=f"chance ({chance:g})")
        ax.set_xlabel("delay k (steps between the token and its answer)")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(ks)
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("accuracy of the answer")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_gradient_paths(panels):
    """Gradient norms against the distance from the step that answers, log scale, one panel per situation.

    panels: list of (title, {label: norms (T + 1,)}), norms[d] at distance d.  Labels starting with RNN, LSTM
    or GRU get that cell's colour; labels mentioning C_ (the LSTM's cell) are solid, the others dashed when
    the same cell also has a C_ curve; a variant (a label with a comma) is dotted."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), sharey=True, squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels):
        with_cell = {label.split(" ")[0] for label in curves if "C_" in label}
        for label, norms in curves.items():
            norms = np.asarray(norms, dtype=float)
            dashed = label.split(" ")[0] in with_cell and "C_" not in label
            shown = np.where(norms > 0, norms, np.nan)               # log scale: a zero is not drawn
            style = ":" if "," in label else "--" if dashed else "-"  # a variant (', forget bias 0') dotted
            ax.semilogy(np.arange(len(norms)), shown, style, lw=2, color=_cell_color(label), label=label)
        ax.set_xlabel("distance d from the answering step T (steps back)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="lower left")
    axes[0, 0].set_ylabel("gradient norm, relative to ||dJ/dh_T||")
    axes[0, 0].yaxis.set_major_formatter(_plain_log_formatter())
    fig.tight_layout()
    return fig


def _plain_log_formatter():
    """Tick labels 1, 0.1, 0.01, 1e-05 on a log axis (no 10^x mathtext)."""
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _: f"{v:g}")


def plot_gate_heatmap(words, values, title, ax=None, vmin=0.0, vmax=1.0, cmap="viridis", units=None):
    """One gate (or the cell) over a sentence: a heat map of units (rows) against the words read (columns).

    words: the T words; values: (T, H); units: how many units to show (the first ones; None: all)."""
    values = as_float_array(values, "values", "plot_gate_heatmap", ndim=2)
    if values.shape[0] != len(words):
        raise ValueError(f"plot_gate_heatmap: argument 'values' must have one row per word ({len(words)}); "
                         f"received shape {values.shape}")
    shown = values[:, :units].T
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(5.0, 0.42 * len(words) + 1.5), 0.16 * shown.shape[0] + 1.6))
    image = ax.imshow(shown, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks(np.arange(len(words)), words, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("unit")
    ax.set_title(title, fontsize=10)
    (fig or ax.figure).colorbar(image, ax=ax, fraction=0.025, pad=0.01)
    if fig is not None:
        fig.tight_layout()
    return fig or ax.figure


GATE_TITLES = {"f": "forget gate f_t (1 = keep C_{t-1})", "i": "input gate i_t (1 = write C~_t)",
               "o": "output gate o_t (1 = show tanh C_t)", "c_tilde": "candidate C~_t", "c": "cell C_t",
               "h": "hidden state h_t"}


def gate_range(name, values):
    """(vmin, vmax, cmap) for a heat map of ``name``: [0, 1] for the gates, symmetric for C~, C and h."""
    if name in ("f", "i", "o"):
        return 0.0, 1.0, "viridis"
    bound = max(float(np.abs(values).max()), 1e-12) if name == "c" else 1.0
    return -bound, bound, "RdBu_r"


def plot_sentence_gates(words, activations, names=("f", "i", "o"), units=24):
    """The gates of an LSTM over one sentence, one heat map per gate, stacked (same words, same units)."""
    fig, axes = plt.subplots(len(names), 1, figsize=(max(6.0, 0.42 * len(words) + 2), 2.0 * len(names) + 0.8),
                             sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        vmin, vmax, cmap = gate_range(name, activations[name])
        plot_gate_heatmap(words, activations[name], GATE_TITLES[name], ax=ax, vmin=vmin, vmax=vmax, cmap=cmap,
                          units=units)
    for ax in axes[:-1, 0]:
        ax.tick_params(labelbottom=False)
    fig.tight_layout()
    return fig


def plot_family(rows):
    """Test perplexity of a family of language models as horizontal bars, best at the bottom.

    rows: list of (label, test perplexity, note) where note (e.g. parameters and seconds per epoch) is written
    beside the bar."""
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(rows) + 1.2))
    order = sorted(range(len(rows)), key=lambda i: -rows[i][1])
    values = [rows[i][1] for i in order]
    bars = ax.barh(np.arange(len(rows)), values, color=[_cell_color(rows[i][0]) or "tab:olive" for i in order])
    ax.bar_label(bars, labels=[f"{rows[i][1]:.1f}  {rows[i][2]}" for i in order], fontsize=8, padding=3)
    ax.set_yticks(np.arange(len(rows)), [rows[i][0] for i in order], fontsize=9)
    ax.set_xlabel("test perplexity (lower is better)")
    ax.set_xlim(0, max(values) * 1.55)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_gru_forms(hs_by_form, unit=0, example=0):
    """One unit's h_t over time for several GRU computations with the same weights (lecture's, PyTorch's, ...).

    hs_by_form: {label: hs (T, H, N)}."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    for (label, hs), style in zip(hs_by_form.items(), ("-", "--", ":", "-.")):
        ax.plot(np.arange(1, len(hs) + 1), np.asarray(hs)[:, unit, example], style, marker="o", ms=3, lw=2,
                label=label)
    ax.set_xlabel("step t")
    ax.set_ylabel(f"h_t of unit {unit}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
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
    """Next-character distributions, one panel each; the panels of a row share their probability axis
    (scaled to the row's tallest bar), so heights compare along a row.

    panels: {panel title: probs (V,)} or {panel title: (behind (V,), in front (V,))}, e.g. the distribution
    before filtering drawn in light grey behind the filtered one; legend: the labels of the two.
    vocab: the V symbols.
    """
    labels = char_labels(vocab)
    ncols = ncols or min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 2.6 * nrows), sharey="row", squeeze=False)
    x = np.arange(len(labels))
    tallest = np.zeros(nrows)
    for k, (ax, (name, probs)) in enumerate(zip(axes.flat, panels.items())):
        before, after = probs if isinstance(probs, tuple) else (None, probs)
        if before is not None:
            _bars(ax, x, before, 0.85, "0.78", legend[0])
        _bars(ax, x, after, 0.5, "tab:blue", legend[1] if before is not None else None)
        tallest[k // ncols] = max(tallest[k // ncols], np.max(after), 0 if before is None else np.max(before))
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_title(name, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, top in zip(axes[:, 0], tallest):
        ax.set_ylim(0, 1.05 * max(top, 1e-9))       # the bars are collections, which do not autoscale
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
