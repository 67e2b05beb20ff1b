"""The figures and the widget of notebook 06 (helpers.plots, helpers.widgets): each figure draws the data it is
given on labelled axes; the sampling explorer has its controls and redraws with the values they hold."""
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import plots, widgets
from helpers.data.chars import ALPHABET


def test_char_labels():
    assert plots.char_labels(ALPHABET)[:6] == ["␣", "", "⏎", "#", "'", "a"]


def heights(ax):
    return np.concatenate(plots.bar_heights(ax))


def test_plot_char_distributions_one_panel_each_on_a_shared_axis_per_row():
    p = np.random.default_rng(0).dirichlet(np.ones(31), size=3)
    p[2] = 0.0
    p[2, 4] = 1.0                       # a certain prediction: its bar must not be cut off
    fig = plots.plot_char_distributions({"a": p[0], "b": (p[1], p[0]), "c": p[2]}, ALPHABET, title="t", ncols=2)
    assert isinstance(fig, Figure) and sum(ax.get_visible() for ax in fig.axes) == 3
    a, b, c = fig.axes[:3]
    np.testing.assert_allclose(heights(a), p[0])
    np.testing.assert_allclose(heights(b), np.concatenate([p[1], p[0]]))     # behind, then in front
    assert a.get_title() == "a" and a.get_ylabel() == "P(next character)"
    assert [t.get_text() for t in a.get_xticklabels()][:3] == ["␣", "", "⏎"]
    assert a.get_shared_y_axes().joined(a, b) and not a.get_shared_y_axes().joined(a, c)
    for ax, tallest in ((a, p[:2].max()), (b, p[:2].max()), (c, 1.0)):     # each row scaled to its bars
        bottom, top = ax.get_ylim()
        assert bottom == 0 and tallest <= top <= 1.1 * tallest, (ax.get_title(), ax.get_ylim(), tallest)
    assert a.get_legend() is None and [t.get_text() for t in b.get_legend().get_texts()] == ["before filtering",
                                                                                            "sampled from"]
    assert fig._suptitle.get_text() == "t"


def test_plot_bits_per_character():
    fig = plots.plot_bits_per_character([1, 2, 4, 6], {"dev": [4.1, 3.3, 1.8, 1.5], "test": [4.0, 3.2, 1.7, 1.4]},
                                        {"LSTM": 1.45})
    full, zoom = fig.axes
    np.testing.assert_array_equal(full.lines[0].get_xdata(), [1, 2, 4, 6])
    np.testing.assert_array_equal(full.lines[1].get_ydata(), [4.0, 3.2, 1.7, 1.4])
    np.testing.assert_array_equal(zoom.lines[1].get_xdata(), [4, 6])               # n >= 4 only
    np.testing.assert_array_equal(zoom.lines[2].get_ydata(), [1.45, 1.45])
    assert "LSTM: 1.450" in [t.get_text() for t in zoom.get_legend().get_texts()]
    assert "bits per character" in full.get_ylabel()


def test_plot_bits_per_epoch():
    fig = plots.plot_bits_per_epoch([3.0, 2.5, 2.2], ("pretrained", 1.5))
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [1.5, 1.5])
    assert plots.plot_bits_per_epoch([2.0]).axes[0].get_legend() is not None


def test_plot_quality_diversity():
    sweeps = {"T": ([0.2, 0.5, 0.7], [-0.8, -1.0, -1.5], ["0.2", "0.8", "1.2"])}
    fig = plots.plot_quality_diversity(sweeps, {"greedy": (0.1, -0.7), "real": (0.7, -1.8)}, 4)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [-0.8, -1.0, -1.5])
    assert [t.get_text() for t in ax.texts] == ["0.2", "0.8", "1.2"]
    assert [list(line.get_xdata()) for line in ax.lines[1:]] == [[0.1], [0.7]]
    assert "distinct-4" in ax.get_xlabel()


def test_plot_beam_width():
    fig = plots.plot_beam_width([1, 2, 4, 8], [-20.0, -16.0, -16.0, -15.0], [0.001, 0.002, 0.004, 0.01], greedy=-20.0,
                                title="t")
    left, right = fig.axes
    assert left.get_xscale() == right.get_xscale() == "log"
    assert [t.get_text() for t in left.get_xticklabels()] == ["1", "2", "4", "8"]
    np.testing.assert_allclose(right.lines[0].get_ydata(), [1, 2, 4, 10])          # milliseconds
    np.testing.assert_array_equal(left.lines[1].get_ydata(), [-20.0, -20.0])


@pytest.fixture
def drawn(monkeypatch):
    shown = []
    monkeypatch.setattr(widgets.plt, "show", lambda: shown.append(plt.gcf()))
    return shown


def test_sampling_explorer_controls_and_live_redraw(drawn, capsys):
    calls = []

    def distribution(prompt, temperature, top_k, top_p):
        calls.append((prompt, temperature, top_k, top_p))
        before = np.full(31, 1 / 31)
        after = np.zeros(31)
        after[:top_k] = 1 / top_k
        return before, after

    def continuation(prompt, temperature, top_k, top_p, seed):
        return f"<{seed}>"

    w = widgets.sampling_explorer(distribution, continuation, ALPHABET, ["the ", "if "])
    assert isinstance(w, ipywidgets.VBox)
    controls = {c.description: c for box in w.children[:2] for c in box.children}
    assert set(controls) == {"prompt", "seed", "temperature", "top-k", "top-p"}
    assert controls["top-k"].max == 31 and controls["top-k"].value == 31 and controls["top-p"].value == 1.0
    controls["top-k"].value = 5
    controls["temperature"].value = 0.5
    controls["seed"].value = 3
    assert calls[-1] == ("the ", 0.5, 5, 1.0)
    ax = drawn[-1].axes[0]
    assert "T = 0.5, top-k 5, top-p off; 5 of 31 characters left" in ax.get_title()
    assert not plt.get_fignums(), "the widget closes the figures it has shown"
    controls["prompt"].value = "if "
    assert calls[-1][0] == "if "
