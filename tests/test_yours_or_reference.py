"""Experiments use the student's own functions once their checks pass: helpers.checks.yours_or_reference,
the mark a passing check leaves, and the places that accept the student's functions (activations as pairs,
plot_activations, the n-gram estimators, the window-LM trainer, plot_training with a short history)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from helpers import activations as A
from helpers import ngram, plots, window_lm
from helpers.checks import check_relu, progress, yours_or_reference
from helpers.checks.exercises import FAILED, PASSED, RUNNING
from helpers.data import load_corpus


def relu(z):
    return np.maximum(z, 0.0)


def wrong_relu_grad(z):
    return (z >= 0).astype(float)


def test_a_passing_function_is_used_and_said_so(capsys):
    assert yours_or_reference({"relu": relu}, "relu") is relu
    assert capsys.readouterr().out == "Using your relu.\n"


def test_a_failing_or_missing_function_gives_the_reference_with_the_reason(capsys):
    ns = {"relu": relu, "relu_grad": wrong_relu_grad}
    chosen = yours_or_reference(ns, "relu", "relu_grad", "tanh_grad")
    assert chosen == (relu, A.relu_grad, A.tanh_grad)
    assert capsys.readouterr().out.splitlines() == [
        "Using your relu.", "Using the reference relu_grad: your relu_grad does not pass its check yet.",
        "Using the reference tanh_grad: you have not defined tanh_grad yet."]


NOTEBOOK = """
import numpy as np

def sigmoid(z):
    raise NotImplementedError()

def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1 - s)
"""


def test_a_function_that_calls_a_failing_exercise_gives_the_reference(capsys):
    ns = {}
    exec(NOTEBOOK, ns)  # as in a notebook: sigmoid_grad finds sigmoid among its globals
    assert yours_or_reference(ns, "sigmoid_grad") is A.sigmoid_grad
    assert capsys.readouterr().out == ("Using the reference sigmoid_grad: your sigmoid_grad calls your sigmoid, "
                                       "which does not pass its check yet.\n")


def test_a_check_records_its_outcome_on_the_function(capsys):
    def my_relu(z):
        return np.maximum(z, 0.0)

    def wrong(z):
        return z

    class TimeLimit(BaseException):  # as the grader stops a cell at its time limit
        pass

    def endless(z):
        raise TimeLimit

    check_relu(my_relu)
    assert getattr(my_relu, PASSED) == "relu"
    with pytest.raises(AssertionError):
        check_relu(wrong)
    assert getattr(wrong, PASSED) == FAILED
    with pytest.raises(TimeLimit):
        check_relu(endless)
    assert getattr(endless, PASSED) == RUNNING
    capsys.readouterr()
    # an experiment does not run a check again: not a passed one, nor a failed or interrupted one
    calls = []

    def counted(z):
        calls.append(1)
        return np.maximum(z, 0.0)

    for outcome, expected in (("relu", counted), (FAILED, A.relu), (RUNNING, A.relu)):
        setattr(counted, PASSED, outcome)
        assert yours_or_reference({"relu": counted}, "relu") is expected
    assert calls == []
    rows = {r[0]: r for r in progress("01_activations", {"relu": endless})}
    assert rows["relu"][2] == "fails" and "did not finish when it last ran (an endless loop?)" in rows["relu"][3]


def test_activation_pairs_are_accepted_where_names_are():
    pair = (relu, A.relu_grad)
    assert A.get_activation(pair) is pair
    with pytest.raises(ValueError, match=r"^get_activation: argument 'name' must be one of"):
        A.get_activation((relu,))
    fig = plots.plot_activations(("relu",), functions={"relu": (lambda z: 2 * relu(z), A.relu_grad)})
    ys = fig.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(ys.max(), 12.0)  # the student's function was drawn (zmax = 6)


def test_a_history_with_only_the_loss_is_plotted():
    fig = plots.plot_training({"loss": [0.7, 0.5, 0.4]})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
    fig = plots.plot_training({"loss": [0.7, 0.5], "dev_loss": [0.8, 0.6], "train_acc": [0.6, 0.7],
                               "dev_acc": [0.5, 0.6]})
    assert len(fig.axes) == 2 and [len(ax.lines) for ax in fig.axes] == [2, 2]


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_ngram_estimators_take_the_students_functions(corpus):
    model = ngram.NGramModel(corpus, 2)
    grams = model.grams(corpus, "dev")[:50]
    calls = []

    def add_k(c_hw, c_h, k, V_out):
        calls.append(k)
        return ngram.add_k_prob(c_hw, c_h, k, V_out)

    np.testing.assert_array_equal(model.add_k(grams, 0.5, add_k), model.add_k(grams, 0.5))
    np.testing.assert_array_equal(model.interpolated(grams, [0.3, 0.7], lambda p, lam: np.asarray(lam) @ p),
                                  model.interpolated(grams, [0.3, 0.7]))
    assert calls == [0.5]


def test_the_window_lm_trains_with_the_functions_it_is_given(corpus):
    used = set()

    def forward(params, contexts):
        used.add("forward")
        return window_lm.window_lm_forward(params, contexts)

    def backward(dscores, cache):
        used.add("backward")
        return window_lm.window_lm_backward(dscores, cache)

    options = dict(window=2, D=4, H=8, epochs=1, batch_size=256, lr=0.5, progress=False)
    _, mine = window_lm.train_window_lm(corpus, forward=forward, backward=backward, **options)
    _, reference = window_lm.train_window_lm(corpus, **options)
    assert used == {"forward", "backward"} and mine == reference


def test_helpers_keeps_blas_to_one_thread_unless_told_otherwise():
    code = "import helpers, threadpoolctl; print(sorted({i['num_threads'] for i in threadpoolctl.threadpool_info()}))"
    env = {k: v for k, v in os.environ.items() if k != "COURSE_BLAS_THREADS"}
    one = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert one.stdout.strip() == "[1]"
    two = subprocess.run([sys.executable, "-c", code], env={**env, "COURSE_BLAS_THREADS": "2"}, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert two.stdout.strip() == "[2]"
    bad = subprocess.run([sys.executable, "-c", code], env={**env, "COURSE_BLAS_THREADS": "many"}, cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "COURSE_BLAS_THREADS must be a positive integer; received 'many'" in bad.stderr


def test_progress_bars_are_silent_while_grading(monkeypatch, capsys):
    from helpers.progress import progress_bar
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert list(progress_bar(range(3), desc="x")) == [0, 1, 2]
    out, err = capsys.readouterr()
    assert out == err == ""


def test_a_tool_the_notebook_imports_from_helpers_is_not_the_students(capsys):
    """In 02, sigmoid comes from helpers (a tool): binary_cross_entropy_grad that calls it is the student's."""
    ns = {"sigmoid": A.sigmoid}
    exec("def binary_cross_entropy_grad(s, y):\n    return (sigmoid(s) - y) / s.shape[1]\n", ns)
    assert yours_or_reference(ns, "binary_cross_entropy_grad") is ns["binary_cross_entropy_grad"]
    assert capsys.readouterr().out == "Using your binary_cross_entropy_grad.\n"
