"""Interactive explorers built on ipywidgets.  Each returns a widget to display."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .activations import ACTIVATIONS, get_activation


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
