"""helpers.plots and helpers.widgets: each plot returns a Figure with the expected axes and
data; the activation explorer is a widget whose controls redraw the curve."""
import ipywidgets
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import activations as A
from helpers import data, plots, widgets


def test_backend_is_non_interactive():
    assert matplotlib.get_backend().lower() == "agg"


@pytest.mark.parametrize("names", [("sigmoid", "tanh", "relu"), ("identity",), ("tanh", "relu")])
def test_plot_activations(names):
    fig = plots.plot_activations(names)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * len(names)
    for row, name in enumerate(names):
        f, f_grad = A.get_activation(name)
        left, right = fig.axes[2 * row], fig.axes[2 * row + 1]
        z, fz = left.lines[0].get_data()
        np.testing.assert_allclose(fz, f(z))
        np.testing.assert_allclose(right.lines[0].get_data()[1], f_grad(z))
        assert left.get_ylabel() == f"{name}(z)" and right.get_ylabel() == f"{name}'(z)"


def test_plot_activations_unknown_name():
    with pytest.raises(ValueError, match=r"^get_activation: argument 'name' must be one of .*received 'swish'"):
        plots.plot_activations(("sigmoid", "swish"))


def test_plot_decision_boundaries():
    X, y = data.make_xor(n=40, seed=0)
    models = [("always 1", lambda P: np.ones((1, P.shape[1]))),
              ("sign rule", lambda P: (P[0:1] * P[1:2] < 0).astype(float)),
              ("logistic", lambda P: A.sigmoid(P[0:1]))]
    fig = plots.plot_decision_boundaries(X, y, models, steps=30)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1] == "sign rule\naccuracy 100%"
    assert titles[0] == f"always 1\naccuracy {np.mean(y == 1):.0%}"


def test_plot_decision_boundaries_single_model():
    X, y = data.make_circles(n=30, seed=0)
    fig = plots.plot_decision_boundaries(X, y, [("zero", lambda P: np.zeros((1, P.shape[1])))], steps=20)
    assert len(fig.axes) == 1


def test_plot_fits():
    x, y = data.make_wave(n=30, seed=0)
    fits = [("zero", lambda g: np.zeros_like(g)), ("truth", lambda g: np.sin(2 * g) + 0.5 * g)]
    fig = plots.plot_fits(x, y, fits, title="two fits", xlim=(-4, 4))
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title() == "two fits" and ax.get_xlim() == (-4, 4)
    curve = [line for line in ax.lines if line.get_label() == "truth"][0]
    gx, gy = curve.get_data()
    np.testing.assert_allclose(gy, np.sin(2 * gx) + 0.5 * gx)
    assert len(plots.plot_fits(x, y, []).axes) == 1


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_plot_scale_shift(activation):
    fig = plots.plot_scale_shift(activation, ws=(0.5, 2), bs=(-1, 0, 3))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left, right = fig.axes
    assert len(left.lines) >= 2 and len(right.lines) >= 3
    f, _ = A.get_activation(activation)
    x, y = right.lines[2].get_data()  # b = 3
    np.testing.assert_allclose(y, f(x + 3))
    x, y = left.lines[1].get_data()  # w = 2
    np.testing.assert_allclose(y, f(2 * x))


# ---------------------------------------------------------------- widgets


def controls(widget):
    return {c.description: c for c in widget.children if hasattr(c, "description") and c.description}


@pytest.fixture
def drawn(monkeypatch):
    """The figures the widget shows, in order (it closes each one after showing it)."""
    shown = []
    monkeypatch.setattr(widgets.plt, "show", lambda: shown.append(plt.gcf()))
    return shown


def test_activation_explorer_has_the_controls():
    w = widgets.activation_explorer()
    assert isinstance(w, ipywidgets.Widget) and isinstance(w, ipywidgets.interactive)
    c = controls(w)
    assert set(c) == {"f", "w (scale)", "b (shift)"}
    assert isinstance(c["f"], ipywidgets.Dropdown) and set(c["f"].options) == {"sigmoid", "tanh", "relu"}
    assert isinstance(c["w (scale)"], ipywidgets.FloatSlider) and isinstance(c["b (shift)"], ipywidgets.FloatSlider)
    assert w.kwargs == {"activation": "sigmoid", "w": 2.0, "b": -2.0}


def test_activation_explorer_redraws_with_new_values(drawn):
    w = widgets.activation_explorer(xmax=4.0)
    c = controls(w)
    before = len(drawn)
    c["w (scale)"].value = 2.0
    c["b (shift)"].value = -1.0
    assert len(drawn) > before, "changing a slider must draw again"
    assert not plt.get_fignums(), "the widget must close the figures it has shown"
    lines = drawn[-1].axes[0].lines
    x, y = lines[1].get_data()
    np.testing.assert_allclose(y, A.sigmoid(2.0 * x - 1.0))
    assert x.min() == -4.0 and x.max() == 4.0
    np.testing.assert_allclose(lines[2].get_xdata(), [0.5, 0.5])  # the centre x = -b/w
    c["f"].value = "relu"
    c["w (scale)"].value = 0.0  # w = 0: no centre line, and no division by zero
    lines = drawn[-1].axes[0].lines
    x, y = lines[1].get_data()
    np.testing.assert_allclose(y, A.relu(0.0 * x - 1.0))
    assert lines[0].get_label() == "relu(x)" and "x = " not in " ".join(line.get_label() for line in lines)
    assert w.kwargs == {"activation": "relu", "w": 0.0, "b": -1.0}


# ---------------------------------------------------------------- plots and widgets of 02_backprop


def test_plot_training_draws_every_curve():
    history = {"loss": [0.7, 0.5, 0.3], "train_acc": [0.6, 0.8, 0.9], "dev_acc": [0.55, 0.75, 0.85]}
    fig = plots.plot_training(history, title="t")
    assert len(fig.axes) == 2
    loss_line, = fig.axes[0].lines
    np.testing.assert_array_equal(loss_line.get_ydata(), history["loss"])
    assert [list(l.get_ydata()) for l in fig.axes[1].lines] == [history["train_acc"], history["dev_acc"]]


def test_plot_word_scores_shows_the_extremes_in_order():
    words = [f"w{i}" for i in range(10)]
    scores = np.array([0.5, -3.0, 2.0, 0.1, -1.0, 4.0, -0.2, 0.0, 1.0, -2.0])
    fig = plots.plot_word_scores(words, scores, k=2)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["w1", "w9", "w2", "w5"]  # two most negative, then two most positive, ascending
    widths = [p.get_width() for p in fig.axes[0].patches]
    assert widths == [-3.0, -2.0, 2.0, 4.0]


def test_plot_accuracy_by_kind_one_bar_per_model_and_kind():
    results = {"a": {"x": 0.9, "y": 0.5}, "b": {"x": 0.8, "y": 0.6}}
    fig = plots.plot_accuracy_by_kind(results, ["x", "y"])
    heights = sorted(p.get_height() for p in fig.axes[0].patches)
    assert heights == [0.5, 0.6, 0.8, 0.9]


def test_plot_gradient_norms_log_scale():
    fig = plots.plot_gradient_norms({"s": [1e-6, 1e-3, 1.0], "r": [1.0, 1.0, 1.0]})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])


def _logistic_1d():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(2, 1, 30), rng.normal(0, 1, 30)])[None, :]
    y = np.concatenate([np.ones(30), np.zeros(30)])[None, :]
    return x, y


def test_descend_follows_the_gradient_and_lowers_the_loss():
    x, y = _logistic_1d()
    path, losses = widgets.descend(x, y, (-3.0, 3.0), lr=1.0, steps=50)
    assert path.shape == (51, 2) and losses.shape == (51,)
    np.testing.assert_array_equal(path[0], [-3.0, 3.0])
    assert losses[-1] < 0.5 * losses[0] and np.all(np.diff(losses) <= 1e-12)
    # one step by hand: J(w, b) = mean(log(1 + e^s) - y s), s = w x + b
    w, b = path[0]
    y_hat = 1 / (1 + np.exp(-(w * x + b)))
    grad = np.array([np.mean((y_hat - y) * x), np.mean(y_hat - y)])
    np.testing.assert_allclose(path[1], path[0] - 1.0 * grad)


def test_descend_with_a_huge_learning_rate_does_not_settle():
    x, y = _logistic_1d()
    _, slow = widgets.descend(x, y, (-3.0, 3.0), lr=2.0, steps=60)
    _, wild = widgets.descend(x, y, (-3.0, 3.0), lr=25.0, steps=60)
    assert np.any(np.diff(wild) > 0) and wild[-1] > slow[-1]


def test_gradient_descent_explorer_redraws(monkeypatch):
    shown = []
    monkeypatch.setattr(widgets.plt, "show", lambda: shown.append(plt.gcf()))
    x, y = _logistic_1d()
    w = widgets.gradient_descent_explorer(x, y)
    controls = {c.description: c for c in w.children if getattr(c, "description", "")}
    assert set(controls) == {"α (lr)", "steps"}
    controls["steps"].value = 5
    left, right = shown[-1].axes[:2]
    assert len(left.lines[0].get_xdata()) == 6  # the path: start + 5 steps
    assert right.get_title().startswith("after 5 steps")
