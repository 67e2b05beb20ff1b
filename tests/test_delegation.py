"""The checks' delegation detector (helpers.checks.framework.no_delegation): a function that hands its
work to the course's reference implementation fails its check with ReferenceDelegation, however the
reference is reached; honest implementations, and the tools the notebooks provide, pass."""
import inspect
import sys

import numpy as np
import pytest
from conftest import student_copy

import helpers.checks as checks
from helpers import activations, losses
from helpers.checks.framework import ReferenceDelegation

NOTEBOOK = {"np": np, "activations": activations}


def defined(source: str, name: str):
    """``name`` as a student's cell defining it would make it."""
    ns = dict(NOTEBOOK)
    exec(compile(source, "<ipython-input-1-test>", "exec"), ns)
    return ns[name]


@pytest.mark.parametrize("case, source", [
    ("direct", "def relu(z):\n    return activations.relu(z)\n"),
    ("alias", "from helpers.activations import relu as mine\ndef relu(z):\n    return mine(z)\n"),
    ("captured object", "import helpers.activations as a\n_f = a.relu\ndel a\ndef relu(z):\n    return _f(z)\n"),
    ("is the reference", "relu = activations.relu\n"),
    ("lambda", "relu = lambda z: activations.relu(z)\n"),
])
def test_delegating_relu_is_caught(case, source):
    with pytest.raises(ReferenceDelegation, match=r"relu calls helpers\.activations\.relu, the reference"):
        checks.check_relu(defined(source, "relu"))


def test_a_copy_compiled_from_the_reference_source_is_caught():
    source = inspect.getsource(activations)
    ns = {"__name__": "mine", "__package__": "helpers"}
    exec(compile(source, "mine.py", "exec"), ns)
    with pytest.raises(ReferenceDelegation, match="softmax calls helpers.activations.softmax"):
        checks.check_softmax(ns["softmax"])


def test_a_sibling_that_shares_the_reference_helper_is_caught():
    softmax = defined("def softmax(z):\n    return np.exp(activations.log_softmax(z))\n", "softmax")
    with pytest.raises(ReferenceDelegation, match=r"softmax calls helpers\.activations\._shifted, a reference"):
        checks.check_softmax(softmax)


HONEST = {
    "relu": "def relu(z):\n    return np.maximum(z, 0.0)\n",
    "tanh_grad": "def tanh_grad(z):\n    return 1.0 - activations.tanh(z) ** 2\n",  # a provided tool
    "softmax": "def softmax(z):\n    e = np.exp(z - np.max(z, axis=0, keepdims=True))\n"
               "    return e / np.sum(e, axis=0, keepdims=True)\n",
}


@pytest.mark.parametrize("name", list(HONEST))
def test_honest_implementations_pass_with_the_detector_on(name, capsys):
    getattr(checks, f"check_{name}")(defined(HONEST[name], name), seed=5, hidden=True)
    assert capsys.readouterr().out.startswith(f"✓ {name}")


def test_a_copy_of_the_reference_code_object_is_caught():
    with pytest.raises(ReferenceDelegation, match="relu calls helpers.activations.relu"):
        checks.check_relu(student_copy(activations.relu))


def test_provided_tools_may_be_used_by_other_exercises(capsys):
    source = ("def softmax_cross_entropy(scores, targets):\n"
              "    N = scores.shape[1]\n"
              "    z = scores - scores.max(axis=0, keepdims=True)\n"
              "    logp = z - np.log(np.exp(z).sum(axis=0, keepdims=True))\n"
              "    d = activations.softmax(scores)\n"
              "    d[targets, np.arange(N)] -= 1\n"
              "    return -logp[targets, np.arange(N)].mean(), d / N\n")
    checks.check_softmax_cross_entropy(defined(source, "softmax_cross_entropy"))
    assert "✓ softmax_cross_entropy" in capsys.readouterr().out


def test_the_profiler_is_put_back():
    calls = []
    previous = lambda frame, event, arg: calls.append(event)  # noqa: E731 (a student's own profiler)
    sys.setprofile(previous)
    try:
        with pytest.raises(ReferenceDelegation):
            checks.check_relu(activations.relu)
        assert sys.getprofile() is previous
    finally:
        sys.setprofile(None)


def test_the_reference_loss_is_not_mistaken_for_the_student_softmax():
    assert losses.softmax_cross_entropy.__module__ == "helpers.losses"  # a different module: not a sibling
