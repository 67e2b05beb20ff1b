"""The figures and the widget of 04_rnn_lm_gradients (helpers.plots, helpers.widgets): each figure holds the
data it is given, on the axes and scales it promises; the gradient-norm explorer redraws the curve of
helpers.rnn for its controls.  And the hooks of helpers.rnn_lm.train_lm through which the notebook trains with
the student's own functions."""
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import clipping, plots, rnn, rnn_lm, widgets
from helpers.data.corpus import load_corpus


def test_gradient_norms_through_time_one_panel_per_activation_one_line_per_radius():
    curves = {"tanh": {0.5: 0.5 ** np.arange(5) * 0.9, 2.0: 2.0 ** np.arange(5) * 0.3},
              "identity": {0.5: 0.5 ** np.arange(5), 1.0: np.ones(5), 2.0: 2.0 ** np.arange(5)}}
    fig = plots.plot_gradient_norms_through_time(curves, title="t")
    left, right = fig.axes
    assert left.get_yscale() == "log" and left.get_shared_y_axes().joined(left, right)
    assert [line.get_label() for line in right.lines[:3]] == ["radius 0.5", "radius 1", "radius 2"]
    np.testing.assert_allclose(right.lines[2].get_ydata(), 2.0 ** np.arange(5))
    np.testing.assert_array_equal(left.lines[0].get_xdata(), np.arange(5))   # the distance k
    assert left.get_title() == "f = tanh" and right.get_title() == "f = identity"
    colours = {line.get_label(): line.get_color() for line in right.lines[:3]}
    assert colours["radius 1"] == "k" and colours["radius 0.5"] != colours["radius 2"]


def test_a_norm_that_underflowed_to_zero_is_left_out_not_plotted_as_minus_infinity():
    fig = plots.plot_gradient_norms_through_time({"tanh": {0.5: np.array([1.0, 1e-300, 0.0])}})
    y = fig.axes[0].lines[0].get_ydata()
    assert y[1] == 1e-300 and np.isnan(y[2])


def test_gradient_norm_curve_figure_beside_radius_to_the_k():
    norms = 0.8 ** np.arange(30)
    fig = plots.plot_gradient_norm_curve(norms, 1.2, "tanh")
    ax = fig.axes[0]
    power, curve = ax.lines[:2]
    np.testing.assert_allclose(power.get_ydata(), 1.2 ** np.arange(30))
    np.testing.assert_allclose(curve.get_ydata(), norms)
    assert "measured factor per step 0.8" in ax.get_title() and ax.get_yscale() == "log"


def test_clipping_figure_draws_the_gradients_and_both_clippings():
    G = np.array([[3.0, 0.0], [0.3, 0.2], [-2.0, 2.0]])
    by_norm = np.array([clipping.clip_by_global_norm({"g": g}, 1.0)[0]["g"] for g in G])
    by_value = np.array([clipping.clip_by_value({"g": g}, 1.0)["g"] for g in G])
    fig = plots.plot_clipping(G, by_norm, by_value, 1.0)
    left, right = fig.axes
    for ax, clipped in ((left, by_norm), (right, by_value)):
        grey, coloured = ax.collections[:2]
        np.testing.assert_allclose(np.c_[grey.U, grey.V], G)
        np.testing.assert_allclose(np.c_[coloured.U, coloured.V], clipped)
    assert left.patches[0].get_radius() == 1.0 and right.patches[0].get_width() == 2.0


def test_lm_training_figure_with_reference_lines():
    history = {"loss": list(np.linspace(6, 4, 12)), "train_nll": [5.5, 4.8, 4.2], "dev_ppl": [150.0, 120.0, 110.0],
               "best_epoch": 2}
    fig = plots.plot_lm_training(history, reference={"KN": 80.0, "window": float("nan")})
    left, right = fig.axes
    np.testing.assert_allclose(left.lines[1].get_xdata(), [4, 8, 12])        # the epoch means at the epochs' ends
    np.testing.assert_allclose(right.lines[0].get_ydata(), [150.0, 120.0, 110.0])
    np.testing.assert_allclose(right.lines[1].get_ydata(), [110.0])           # the best epoch
    assert right.lines[2].get_label() == "KN: 80.0"


def test_mix_weight_figure_marks_the_chosen_weight():
    weights, ppl = np.linspace(0, 1, 5), np.array([80.0, 70.0, 66.0, 75.0, 100.0])
    fig = plots.plot_mix_weight(weights, ppl, 0.5)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[1].get_data(), [[0.5], [66.0]])
    assert "w = 0.5" in ax.lines[1].get_label()


def test_truncation_figure_three_panels_against_T():
    fig = plots.plot_truncation([1, 4, 16, 64], [150, 149, 143, 500], [0.8, 0.8, 0.9, 1.2], [0.6, 0.7, 0.7, 900], 2)
    quality, cost, explosions = fig.axes
    assert quality.get_xscale() == "log" and quality.get_yscale() == "log" and cost.get_yscale() == "linear"
    np.testing.assert_allclose(explosions.lines[0].get_ydata(), [0.6, 0.7, 0.7, 900])
    assert [t.get_text() for t in cost.get_xticklabels()] == ["1", "4", "16", "64"]
    assert quality.get_ylabel() == "dev perplexity after 2 epochs"


def test_clipping_runs_figure_marks_a_diverged_run():
    runs = {"none": {"loss": [5.0, 5.0, float("inf")], "grad_norm": [0.5, 3.0, float("inf")], "diverged": 2},
            "norm": {"loss": [5.0, 4.9, 4.8], "grad_norm": [0.5, 0.6, 0.4], "diverged": None}}
    fig = plots.plot_clipping_runs(runs)
    left, right = fig.axes
    assert right.get_yscale() == "log" and len(right.lines) == 2
    assert len(left.lines) == 3 and left.lines[1].get_marker() == "x"


def test_copy_accuracy_figure_with_chance():
    fig = plots.plot_copy_accuracy([1, 2, 3], {"RNN": [1.0, 0.6, 0.25], "LSTM": [1.0, 1.0, 1.0]}, 0.25)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["RNN", "LSTM", "chance (1/4)"]
    assert ax.get_ylim() == (0, 1.05)


def test_gradient_norm_explorer_redraws_the_curve_of_helpers_rnn(monkeypatch):
    shown = []
    monkeypatch.setattr(widgets.plt, "show", lambda: shown.append(plt.gcf()))
    w = widgets.gradient_norm_explorer(H=8, seed=3)
    assert isinstance(w, ipywidgets.interactive)
    c = {ch.description: ch for ch in w.children if getattr(ch, "description", "")}
    assert set(c) == {"radius ρ", "f", "length T"} and set(c["f"].options) == {"tanh", "identity", "relu"}
    c["f"].value = "identity"
    c["length T"].value = 20
    c["radius ρ"].value = 1.5
    curve = shown[-1].axes[0].lines[1].get_ydata()
    Wh = 1.5 * rnn.orthogonal(8, np.random.default_rng(3))
    np.testing.assert_allclose(curve, rnn.gradient_norm_curve(Wh, 20, "identity"))
    np.testing.assert_allclose(curve, 1.5 ** np.arange(20), rtol=1e-9)   # identity, orthogonal W_h: rho^k
    assert not plt.get_fignums(), "the widget must close the figures it has shown"


# ---------------------------------------------------------------- train_lm with the student's functions


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_train_lm_hooks_are_called_and_give_the_same_training(corpus):
    calls = {"loss": 0, "batches": 0, "clip": 0}

    def loss(params, ids, h0):
        calls["loss"] += 1
        return rnn_lm.rnn_lm_loss(params, ids, h0)

    def batches(stream, N, T):
        calls["batches"] += 1
        return rnn_lm.tbptt_batches(stream, N, T)

    def clip(grads):
        calls["clip"] += 1
        return clipping.clip_by_global_norm(grads, 5.0)[0]

    options = dict(D=4, H=8, T=8, N=8, epochs=2, max_steps=30, progress=False)
    params, history = rnn_lm.train_lm(corpus, loss=loss, batches=batches, clip=clip, **options)
    reference, expected = rnn_lm.train_lm(corpus, clip=("norm", 5.0), **options)
    assert calls["loss"] == calls["clip"] == 30 and calls["batches"] >= 2   # the bar's count, then one per epoch
    np.testing.assert_array_equal(history["loss"], expected["loss"])
    assert all(np.array_equal(params[k], reference[k]) for k in params)


def test_train_lm_rejects_hooks_that_are_not_functions(corpus):
    with pytest.raises(TypeError, match=r"^train_lm: argument 'loss' must be None or a function; received str"):
        rnn_lm.train_lm(corpus, loss="rnn_lm_loss", progress=False)
    with pytest.raises(TypeError, match=r"^train_lm: argument 'batches' must be None or a function"):
        rnn_lm.train_lm(corpus, batches=3, progress=False)
