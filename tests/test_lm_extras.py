"""helpers.losses.softmax_cross_entropy (values against a log-softmax loop, logits of 1e4, the gradient
against central differences, error messages), the figures of 03 (plot_sparsity_and_storage,
plot_next_word) and the next-word explorer widget (redraws, flags words outside the vocabulary)."""
import math
import re
import warnings

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import ngram, plots, widgets
from helpers.data.corpus import load_corpus
from helpers.gradcheck import gradcheck
from helpers.losses import softmax_cross_entropy


def loss_by_loops(scores, targets):
    """J = -(1/N) sum_n log softmax(scores[:, n])[targets[n]] and dJ/dscores, column by column in Python floats."""
    C, N = scores.shape
    losses, grad = [], np.zeros((C, N))
    for n in range(N):
        column = [float(v) for v in scores[:, n]]
        m = max(column)
        log_z = m + math.log(math.fsum(math.exp(v - m) for v in column))
        losses.append(log_z - column[targets[n]])
        for c in range(C):
            grad[c, n] = (math.exp(column[c] - log_z) - (c == targets[n])) / N
    return math.fsum(losses) / N, grad


# ---------------------------------------------------------------- softmax_cross_entropy


@pytest.mark.parametrize("C, N, scale", [(5, 4, 1.0), (3, 1, 3.0), (1, 3, 1.0), (10, 7, 20.0)])
def test_softmax_cross_entropy_against_a_loop(C, N, scale):
    rng = np.random.default_rng(C * N)
    scores, targets = rng.normal(scale=scale, size=(C, N)), rng.integers(0, C, size=N)
    J, grad = softmax_cross_entropy(scores, targets)
    expected_J, expected_grad = loss_by_loops(scores, targets)
    assert isinstance(J, float) and J == pytest.approx(expected_J, rel=1e-12)
    assert grad.shape == (C, N)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(grad.sum(axis=0), 0.0, atol=1e-15)  # softmax and one-hot both sum to 1


def test_softmax_cross_entropy_of_huge_logits_is_finite_and_exact():
    scores = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, 0.0]])
    targets = np.array([0, 0, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no division by zero
        J, grad = softmax_cross_entropy(scores, targets)
    # column 0: the target has the largest logit (loss ~0); columns 1 and 2: 1e4 below the largest
    assert J == pytest.approx((0.0 + 1e4 + 1e4) / 3, rel=1e-15)
    np.testing.assert_allclose(grad, np.array([[0, -1, 0], [0, 1, 1], [0, 0, -1]]) / 3, atol=1e-300)
    expected_J, expected_grad = loss_by_loops(scores, targets)
    assert J == pytest.approx(expected_J) and np.allclose(grad, expected_grad)


def test_softmax_cross_entropy_does_not_change_its_arguments():
    scores, targets = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([1, 0])
    softmax_cross_entropy(scores, targets)
    np.testing.assert_array_equal(scores, [[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_array_equal(targets, [1, 0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_cross_entropy_gradient_against_central_differences(seed):
    rng = np.random.default_rng(seed)
    scores, targets = rng.normal(scale=2.0, size=(6, 5)), rng.integers(0, 6, size=5)
    targets[1] = targets[0]  # two examples of one class
    _, grad = softmax_cross_entropy(scores, targets)
    report = gradcheck(lambda s: softmax_cross_entropy(s, targets)[0], scores.copy(), grad)
    assert report.passed, str(report)


@pytest.mark.parametrize("targets, received", [
    (np.array([[0, 1, 2, 0]]), "int64 array of shape (1, 4)"),
    (np.array([0, 1, 2]), "int64 array of shape (3,)"),
    (np.array([0.0, 1.0, 2.0, 0.0]), "float64 array of shape (4,)"),
    (np.array([True, False, True, False]), "bool array of shape (4,)"),
])
def test_softmax_cross_entropy_names_wrong_targets(targets, received):
    expected = ("softmax_cross_entropy: argument 'targets' must be 4 integer class ids, shape (4,); "
                f"received {received}")
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        softmax_cross_entropy(np.zeros((3, 4)), targets)


@pytest.mark.parametrize("targets, received", [([0, 3, 1, 2], "ids from 0 to 3"), ([-1, 0, 1, 2], "ids from -1 to 2")])
def test_softmax_cross_entropy_names_targets_out_of_range(targets, received):
    expected = f"softmax_cross_entropy: argument 'targets' must hold ids in [0, 3); received {received}"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        softmax_cross_entropy(np.zeros((3, 4)), np.array(targets))


def test_softmax_cross_entropy_names_wrong_scores():
    with pytest.raises(ValueError, match=r"^softmax_cross_entropy: argument 'scores' must be 2-D; received shape "
                                         r"\(3,\)$"):
        softmax_cross_entropy(np.zeros(3), np.array([0]))


# ---------------------------------------------------------------- figures


def test_plot_sparsity_and_storage():
    ns, unseen, distinct = [1, 2, 3, 4], [0.0, 0.3, 0.63, 0.77], [1400, 9000, 30000, 60000]
    fig = plots.plot_sparsity_and_storage(ns, unseen, distinct, 120_000)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left, right = fig.axes
    bars = left.patches
    assert [p.get_height() for p in bars] == unseen
    assert [round(p.get_x() + p.get_width() / 2) for p in bars] == ns
    assert [t.get_text() for t in left.texts] == ["0%", "30%", "63%", "77%"]
    assert left.get_ylim() == (0, 1.05) and list(left.get_xticks()) == ns
    curve, level = right.lines
    assert list(curve.get_xdata()) == ns and list(curve.get_ydata()) == distinct
    assert list(level.get_ydata()) == [120_000, 120_000]
    assert right.get_yscale() == "log"
    assert [t.get_text() for t in right.get_legend().get_texts()] == [
        "n-gram model: table entries (orders 1..n)", "window neural LM: parameters"]
    assert right.get_ylabel() == "numbers stored (log scale)" and left.get_title() and right.get_title()
    right.figure.canvas.draw()
    labels = [t.get_text() for t in right.get_yticklabels() if t.get_text()]
    assert labels and all("10^" not in t and "times" not in t for t in labels), labels  # plain numbers


def bars_of(ax):
    """(word, probability) of each bar, from the top bar down."""
    words = [t.get_text() for t in ax.get_yticklabels()]
    return list(zip(words, [p.get_width() for p in ax.patches]))[::-1]


def test_plot_next_word_shows_the_most_probable_words_on_top():
    vocab = ["<unk>", "<s>", "</s>", "a", "b", "c", "d"]
    p = np.array([0.05, 0.0, 0.3, 0.1, 0.4, 0.0, 0.15])
    q = np.full(7, 1 / 7)
    q[[3, 6]] = [0.3, 0.0]
    fig = plots.plot_next_word({"first": p, "second": q}, vocab, k=3)
    assert len(fig.axes) == 2 and [ax.get_title() for ax in fig.axes] == ["first", "second"]
    assert bars_of(fig.axes[0]) == [("b", 0.4), ("</s>", 0.3), ("d", 0.15)]
    top = bars_of(fig.axes[1])
    assert top[0] == ("a", 0.3) and len(top) == 3 and all(w != "d" for w, _ in top)


def test_plot_next_word_with_k_larger_than_the_vocabulary():
    fig = plots.plot_next_word({"m": np.array([0.2, 0.0, 0.5, 0.3])}, ["<unk>", "<s>", "</s>", "a"], k=10)
    assert [w for w, _ in bars_of(fig.axes[0])] == ["</s>", "a", "<unk>", "<s>"]


# ---------------------------------------------------------------- the next-word explorer


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


@pytest.fixture(scope="module")
def bigram(corpus):
    return ngram.NGramModel(corpus, 2)


@pytest.fixture
def drawn(monkeypatch):
    """The figures the widget shows, in order."""
    shown = []
    monkeypatch.setattr(widgets.plt, "show", lambda: shown.append(plt.gcf()))
    return shown


def explorer(corpus, bigram, calls, examples=("the value of the", "an exception is")):
    def recorded(ids):
        calls.append(np.array(ids))
        return ngram.next_word_distribution(bigram, ids)

    def uniform(ids):
        p = np.full(corpus.V, 1 / (corpus.V - 1))
        p[1] = 0.0
        return p

    return widgets.next_word_explorer(corpus, {"bigram": recorded, "uniform": uniform}, list(examples), k=5)


def test_next_word_explorer_draws_the_first_example(corpus, bigram, drawn):
    calls = []
    w = explorer(corpus, bigram, calls)
    assert isinstance(w, ipywidgets.interactive)
    box, = [c for c in w.children if isinstance(c, ipywidgets.Combobox)]
    assert box.description == "context" and box.value == "the value of the"
    assert list(box.options) == ["the value of the", "an exception is"]
    assert len(drawn) == 1 and not plt.get_fignums(), "one figure shown, then closed"
    fig = drawn[0]
    assert [ax.get_title() for ax in fig.axes] == ["bigram", "uniform"] and fig.get_suptitle() == ""
    np.testing.assert_array_equal(calls[-1], corpus.encode("the value of the"))
    p = ngram.next_word_distribution(bigram, corpus.encode("the value of the"))
    top = np.argsort(-p)[:5]
    assert bars_of(fig.axes[0]) == [(corpus.vocab[i], p[i]) for i in top]


def test_next_word_explorer_redraws_when_the_context_changes(corpus, bigram, drawn):
    calls = []
    w = explorer(corpus, bigram, calls)
    box, = [c for c in w.children if isinstance(c, ipywidgets.Combobox)]
    box.value = "an exception is"
    assert len(drawn) == 2
    np.testing.assert_array_equal(calls[-1], corpus.encode("an exception is"))
    p = ngram.next_word_distribution(bigram, corpus.encode("an exception is"))
    assert bars_of(drawn[-1].axes[0])[0] == (corpus.vocab[int(np.argmax(p))], p.max())
    box.value = "a context typed by hand: the"
    assert len(drawn) == 3 and not plt.get_fignums()


@pytest.mark.parametrize("context, unknown", [
    ("the qqqzzz of", "qqqzzz"),
    ("the self.qqq attribute", "qqq"),              # tokenised like the corpus: self, qqq, attribute
    ("Zzyzx is, in the (xyzzy) list", "zzyzx, xyzzy"),
])
def test_next_word_explorer_flags_words_outside_the_vocabulary(corpus, bigram, drawn, context, unknown):
    calls = []
    w = explorer(corpus, bigram, calls)
    box, = [c for c in w.children if isinstance(c, ipywidgets.Combobox)]
    box.value = context
    assert drawn[-1].get_suptitle() == f"not in the vocabulary (read as <unk>): {unknown}"
    assert (calls[-1] == 0).sum() == len(unknown.split(", "))
    box.value = "the value of the"
    assert drawn[-1].get_suptitle() == ""
