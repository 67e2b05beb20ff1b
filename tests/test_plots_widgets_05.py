"""The plots and the widget of 05_lstm_gru: each returns a Figure (or a widget) with the data it was given,
labelled axes, shared scales where panels are compared; the gate explorer redraws for another sentence or gate."""
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import plots, widgets


def test_accuracy_against_delay_draws_runs_and_seed_bands():
    live = {"RNN": [1.0, 0.25], "LSTM": [1.0, 1.0]}
    long = {"RNN": [[1.0, 0.3, 0.2], [1.0, 0.2, 0.3]], "LSTM, forget bias 0": [[1.0, 0.5, 0.25], [1.0, 0.7, 0.2]]}
    fig = plots.plot_accuracy_against_delay([("live", [4, 8], live), ("long", [3, 5, 7], long)])
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left, right = fig.axes
    np.testing.assert_allclose(left.lines[1].get_ydata(), [1.0, 1.0])
    np.testing.assert_allclose(right.lines[0].get_ydata(), [1.0, 0.25, 0.25])       # the mean over the seeds
    assert len(right.collections) == 2                                             # a band per model with seeds
    assert right.lines[1].get_linestyle() == "--" and right.lines[1].get_color() == plots.CELL_COLORS["LSTM"]
    assert left.get_ylim() == right.get_ylim() == (0.0, 1.05)
    assert "delay k" in left.get_xlabel() and "accuracy" in left.get_ylabel()
    assert any(line.get_ydata()[0] == 0.25 for line in left.lines)                 # the chance line


def test_gradient_paths_on_a_shared_log_scale():
    norms = np.array([1.0, 0.5, 0.25, 0.0])
    fig = plots.plot_gradient_paths([("start", {"RNN ||dJ/dh||": norms, "LSTM ||dJ/dC_k||": norms,
                                                "LSTM ||dJ/dh||": norms, "LSTM, forget bias 0 ||dJ/dC_k||": norms}),
                                     ("after", {"GRU ||dJ/dh||": norms})])
    left, right = fig.axes
    assert left.get_yscale() == "log" and left.get_shared_y_axes().joined(left, right)
    styles = [line.get_linestyle() for line in left.lines]
    assert styles == ["-", "-", "--", ":"]
    assert np.isnan(left.lines[0].get_ydata()[3])                                  # a zero is not drawn on a log axis
    assert "distance" in left.get_xlabel() and "gradient norm" in left.get_ylabel()
    assert left.yaxis.get_major_formatter()(0.01, 0) == "0.01"


def test_gate_heatmap_and_sentence_gates():
    words = ["</s>", "the", "value", "is"]
    values = np.linspace(0, 1, 4 * 30).reshape(4, 30)
    fig = plots.plot_gate_heatmap(words, values, "forget gate", units=24)
    image = fig.axes[0].images[0]
    assert image.get_array().shape == (24, 4)
    np.testing.assert_allclose(image.get_array(), values[:, :24].T)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == words
    with pytest.raises(ValueError, match=r"^plot_gate_heatmap: argument 'values' must have one row per word \(4\)"):
        plots.plot_gate_heatmap(words, values[:3], "f")
    acts = {name: values for name in ("f", "i", "o", "c")}
    fig = plots.plot_sentence_gates(words, acts, names=("f", "i", "o", "c"), units=10)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 4 and images[0].get_clim() == (0.0, 1.0)
    assert images[3].get_clim() == (-1.0, 1.0)                                     # the cell: symmetric about 0


def test_plot_family_sorts_by_perplexity_and_colours_by_model():
    rows = [("LSTM", 100.0, "a"), ("5-gram Kneser-Ney (03)", 75.0, ""), ("2-layer LSTM", 110.0, ""),
            ("window LM, 4 words (03)", 105.0, "")]
    fig = plots.plot_family(rows)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2-layer LSTM", "window LM, 4 words (03)", "LSTM",
                                                           "5-gram Kneser-Ney (03)"]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [110.0, 105.0, 100.0, 75.0]
    assert ax.patches[0].get_facecolor() == ax.patches[2].get_facecolor()        # both LSTMs in the LSTM's colour


def test_plot_gru_forms_draws_one_line_per_form():
    hs = np.arange(12.0).reshape(3, 2, 2)
    fig = plots.plot_gru_forms({"a": hs, "b": -hs}, unit=1, example=0)
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), -hs[:, 1, 0])
    assert fig.axes[0].get_ylabel() == "h_t of unit 1"


def test_accuracy_by_kind_keeps_the_legend_off_the_bars():
    results = {name: {"x": 0.5, "y": 1.0} for name in "abcde"}
    fig = plots.plot_accuracy_by_kind(results, ["x", "y"])
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1  # above the axes, over no bar


def test_gate_explorer_redraws_for_another_sentence_and_gate(monkeypatch):
    shown = []
    monkeypatch.setattr(widgets.plt, "show", lambda: shown.append(plt.gcf()))
    sentences = [["</s>", "a", "b"], ["</s>", "c"]]
    acts = [{name: np.full((len(s), 5), k / 10) for name in ("f", "i", "o", "c_tilde", "c", "h")}
            for k, s in enumerate(sentences)]
    w = widgets.gate_explorer(sentences, lambda i: acts[i])
    assert isinstance(w, ipywidgets.interactive)
    controls = {c.description: c for c in w.children if getattr(c, "description", "")}
    assert set(controls) == {"sentence", "show"}
    controls["sentence"].value = 1
    controls["show"].value = "c"
    image = shown[-1].axes[0].images[0]
    assert image.get_array().shape == (5, 2)
    assert shown[-1].axes[0].get_title() == plots.GATE_TITLES["c"]
    assert not plt.get_fignums()
