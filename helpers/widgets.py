"""Interactive explorers built on ipywidgets.  Each returns a widget to display."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from . import plots
from .activations import ACTIVATIONS, get_activation
from .losses import bce_with_logits, binary_cross_entropy


YLIM = {"sigmoid": (-0.1, 1.15), "tanh": (-1.15, 1.15), "relu": (-0.5, 6.0)}


def activation_explorer(xmax=6.0):
    """Sliders for w and b of f(w x + b) and a choice of f.

    The reference curve f(x) stays in grey; the dashed line marks x = -b/w,
    where the pre-activation w x + b is 0 (the curve's "centre").
    """
    x = np.linspace(-xmax, xmax, 400)

    def draw(activation, w, b):
        f, _ = get_activation(activation)
        fig, ax = plt.subplots(figsize=(6.5, 3.4))
        ax.plot(x, f(x), color="0.7", lw=2, label=f"{activation}(x)")
        ax.plot(x, f(w * x + b), lw=2.5, label=f"{activation}({w:g}·x {'-' if b < 0 else '+'} {abs(b):g})")
        if w != 0:
            centre = -b / w + 0.0  # + 0.0 turns -0.0 into 0.0
            ax.axvline(centre, color="tab:red", ls="--", lw=1, label=f"w·x + b = 0 at x = {centre:.2f}")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlim(-xmax, xmax)
        ax.set_ylim(*YLIM[activation])
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=9)
        plt.show()
        plt.close(fig)

    return widgets.interactive(
        draw,
        activation=widgets.Dropdown(options=[a for a in ACTIVATIONS if a != "identity"], value="sigmoid",
                                    description="f"),
        w=widgets.FloatSlider(value=2.0, min=-5.0, max=5.0, step=0.1, description="w (scale)"),
        b=widgets.FloatSlider(value=-2.0, min=-5.0, max=5.0, step=0.1, description="b (shift)"),
    )


def descend(x, y, theta, lr, steps):
    """Gradient descent on J(w, b) = binary_cross_entropy(w x + b, y).

    x, y: (1, N);  theta: (w, b) to start from.  Returns the path, shape (steps + 1, 2),
    and the loss at each point, shape (steps + 1,).
    """
    path, losses = [np.array(theta, dtype=float)], []
    for _ in range(steps + 1):
        w, b = path[-1]
        J, ds = bce_with_logits(w * x + b, y)
        losses.append(J)
        path.append(path[-1] - lr * np.array([np.sum(ds * x), np.sum(ds)]))  # dJ/dw = sum ds x, dJ/db = sum ds
    return np.array(path[:-1]), np.array(losses)


def gradient_descent_explorer(x, y, start=(-3.0, 3.0), extent=((-4.0, 8.0), (-4.0, 6.0))):
    """Sliders for the learning rate and the number of steps of gradient descent on the
    two parameters (w, b) of y_hat = sigmoid(w x + b): the path on the loss surface, and the loss curve."""
    ws, bs = np.linspace(*extent[0], 60), np.linspace(*extent[1], 50)
    surface = np.array([[binary_cross_entropy(w * x + b, y) for w in ws] for b in bs])

    def draw(lr, steps):
        path, losses = descend(x, y, start, lr, steps)
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
        left.contourf(ws, bs, np.log(surface), levels=30, cmap="viridis")
        left.plot(path[:, 0], path[:, 1], "o-", color="white", ms=2.5, lw=1)
        left.plot(*path[-1], "*", color="tab:red", ms=12)
        left.set_xlim(*extent[0])
        left.set_ylim(*extent[1])
        left.set_xlabel("w")
        left.set_ylabel("b")
        left.set_title("path of (w, b) on log J(w, b)")
        right.plot(losses)
        right.set_yscale("log")
        plots.plain_log_ticks(right)
        right.set_xlabel("step")
        right.set_ylabel("J (binary cross-entropy, log scale)")
        right.set_title(f"after {steps} steps: J = {losses[-1]:.4f}")
        right.grid(alpha=0.3, which="both")
        fig.tight_layout()
        plt.show()
        plt.close(fig)

    return widgets.interactive(
        draw,
        lr=widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=1.5, step=0.1, description="α (lr)"),
        steps=widgets.IntSlider(value=30, min=1, max=200, description="steps"),
    )


def next_word_explorer(corpus, distributions, examples, k=10):
    """Type a context, or pick one, and see the next-word distributions of several models side by side.

    distributions: name -> function(context ids (m,)) -> (V,) probabilities;  examples: contexts to pick from.
    """
    from .data.corpus import text_tokens
    from .plots import plot_next_word

    def draw(context):
        ids = corpus.encode(context)
        unknown = [w for w, i in zip(text_tokens(context), ids) if i == 0]  # ids[j] is the id of token j
        plot_next_word({name: f(ids) for name, f in distributions.items()}, corpus.vocab, k)
        if unknown:
            plt.gcf().suptitle(f"not in the vocabulary (read as <unk>): {', '.join(unknown)}", fontsize=9)
        plt.show()
        plt.close("all")

    text = widgets.Combobox(value=examples[0], options=list(examples), description="context",
                            ensure_option=False, layout=widgets.Layout(width="60%"))
    return widgets.interactive(draw, context=text)


# ---------------------------------------------------------------- notebook 04: vanishing and exploding gradients


def gradient_norm_figure(radius, activation, T, H=32, seed=1):
    """The figure of gradient_norm_explorer for one setting: ||dJ/dh_t|| against the distance T - t for an RNN
    whose W_h is ``radius`` times a random orthogonal (H, H) matrix (every singular value equals the radius),
    computed by helpers.rnn.gradient_norm_curve (random inputs, a random unit dJ/dh_T)."""
    from .rnn import gradient_norm_curve, orthogonal
    Wh = radius * orthogonal(H, np.random.default_rng(seed))
    return plots.plot_gradient_norm_curve(gradient_norm_curve(Wh, T, activation), radius, activation)


def gradient_norm_explorer(H=32, seed=1):
    """Controls for the spectral radius of W_h, the activation f and the sequence length T; the curve
    ||dJ/dh_t|| against the distance T - t is redrawn (log scale), beside radius^k (lecture item 7)."""

    def draw(radius, activation, T):
        gradient_norm_figure(radius, activation, T, H, seed)
        plt.show()
        plt.close("all")

    return widgets.interactive(
        draw,
        radius=widgets.FloatSlider(value=1.0, min=0.3, max=2.5, step=0.05, description="radius ρ",
                                   continuous_update=False),
        activation=widgets.Dropdown(options=["tanh", "identity", "relu"], value="tanh", description="f"),
        T=widgets.IntSlider(value=50, min=5, max=200, step=5, description="length T", continuous_update=False),
    )


# ---------------------------------------------------------------- notebook 05: LSTM and GRU


def gate_explorer(sentences, activations, units=24):
    """Pick a sentence and a gate; see the LSTM's gate over the sentence as a heat map (units x words).

    sentences: list of word lists (what the model read); activations: function(index of the sentence) ->
    {'f', 'i', 'o', 'c_tilde', 'c', 'h'}, each (T, H)."""
    from .plots import GATE_TITLES, gate_range, plot_gate_heatmap

    def draw(sentence, gate):
        values = activations(sentence)[gate]
        vmin, vmax, cmap = gate_range(gate, values)
        plot_gate_heatmap(sentences[sentence], values, GATE_TITLES[gate], vmin=vmin, vmax=vmax, cmap=cmap,
                          units=units)
        plt.show()
        plt.close("all")

    options = [(" ".join(words)[:70], i) for i, words in enumerate(sentences)]
    return widgets.interactive(
        draw,
        sentence=widgets.Dropdown(options=options, value=0, description="sentence",
                                  layout=widgets.Layout(width="80%")),
        gate=widgets.Dropdown(options=[(title, name) for name, title in GATE_TITLES.items()], value="f",
                              description="show", layout=widgets.Layout(width="45%")))
