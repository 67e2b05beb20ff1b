"""Delegation in 05_lstm_gru: a function that hands its work to the reference of its own exercise fails with
ReferenceDelegation; the notebook's honest solutions pass, although they call the provided sigmoid, the
reference step functions (while a sequence check runs) and the reference cells (bidirectional_forward)."""
import numpy as np
import pytest

import helpers.checks as checks
from helpers.activations import sigmoid
from helpers.checks.framework import ReferenceDelegation
from test_checks_gates import SOURCES


def defined(source, name):
    ns = {"np": np, "sigmoid": sigmoid}
    exec(compile(source, "<ipython-input-1-test>", "exec"), ns)
    return ns[name]


@pytest.mark.parametrize("name, source", [
    ("lstm_step_backward", "from helpers.lstm import lstm_step_backward as ref\n"
                           "def lstm_step_backward(dh, dc, cache):\n    return ref(dh, dc, cache)\n"),
    ("lstm_forward", "import helpers.lstm\ndef lstm_forward(xs, h0, params, c0=None):\n"
                     "    return helpers.lstm.lstm_forward(xs, h0, params, c0)\n"),
    ("gru_step_forward", "from helpers import gru\ngru_step_forward = gru.gru_step_forward\n"),
    ("bidirectional_forward", "from helpers import bidirectional\ndef bidirectional_forward(xs, pf, pb, cell):\n"
                              "    return bidirectional.bidirectional_forward(xs, pf, pb, cell)\n"),
    ("count_parameters", "from helpers.cells import count_parameters\n"),
])
def test_delegating_is_caught(name, source):
    with pytest.raises(ReferenceDelegation, match=rf"{name} calls helpers\.\w+\.{name}, the reference"):
        getattr(checks, f"check_{name}")(defined(source, name))


@pytest.mark.parametrize("name", list(SOURCES))
def test_the_honest_solutions_are_not_accused(name, capfd):
    getattr(checks, f"check_{name}")(defined(SOURCES[name], name), seed=3, hidden=True)
    assert capfd.readouterr().out.startswith(f"✓ {name}")
