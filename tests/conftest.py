"""Test setup: Jupyter, IPython and matplotlib keep their state in a temporary folder,
and subprocesses (nbgrader, kernels) find the tools of the running Python."""
import atexit
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_STATE = Path(tempfile.mkdtemp(prefix="course-test-state-"))
atexit.register(shutil.rmtree, _STATE, ignore_errors=True)
for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
    os.environ[var] = str(_STATE / var.lower())
os.environ["MPLBACKEND"] = "Agg"
os.environ.pop("NBGRADER_EXECUTION", None)
# nbgrader runs `alembic` and kernels from the environment's bin folder
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def assignments():
    """The assignment names, one per folder of solutions/."""
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(autouse=True)
def close_figures():
    """Every test starts and ends without open matplotlib figures."""
    import matplotlib.pyplot as plt
    plt.close("all")
    yield
    plt.close("all")


def one_success_line(capfd, name, rest=r"all \d+ cases pass"):
    """The one line a passing check prints (and nothing on stderr, which nbgrader would score 0)."""
    out, err = capfd.readouterr()
    assert err == "", "anything on stderr makes nbgrader score the cell 0"
    lines = out.splitlines()
    assert len(lines) == 1 and re.fullmatch(rf"✓ {name}: {rest}", lines[0]), out
    return lines[0]


def assert_fails_naming(check, wrong, words, capfd, hidden=False, contains=lambda message, word: word in message):
    """check(wrong) fails with a CheckFailure whose message holds every one of ``words``, and prints no ✓
    and nothing on stderr.  Returns the message."""
    from helpers.checks import CheckFailure
    with pytest.raises(CheckFailure) as info:
        check(wrong, hidden=hidden)
    message = str(info.value)
    for word in words:
        assert contains(message, word), f"{word!r} not in:\n{message}"
    out, err = capfd.readouterr()
    assert "✓" not in out and err == ""
    return message


def assert_gradcheck(J, x, analytic):
    """The analytic gradient of the scalar J at x agrees with central differences (helpers.gradcheck)."""
    from helpers.gradcheck import gradcheck
    report = gradcheck(J, x, analytic)
    assert report.passed, str(report)


def state_arrays(state):
    """A recurrent state as a list of arrays: [h] for the RNN and GRU, [h, C] for the LSTM."""
    return list(state) if isinstance(state, tuple) else [state]


def assert_grading_mistake_caught(check, grade_id, wrong, shown, capfd, hidden_seed, hidden_match=None):
    """A wrong answer of tests/mistakes.py: the visible check fails it with a hint when ``shown``, otherwise
    it passes the visible check and fails the hidden tests (``hidden_match``: what their message says)."""
    from helpers.checks import CheckFailure
    if shown:
        with pytest.raises(CheckFailure, match="Hint: "):
            check(wrong)
        return
    check(wrong)
    one_success_line(capfd, grade_id)
    with pytest.raises(CheckFailure, match=hidden_match):
        check(wrong, seed=hidden_seed, hidden=True)


def assert_hidden_adds_cases(check, reference, name, capfd):
    """check(reference) passes with and without hidden=True, and the hidden tests run more cases."""
    counts = []
    for hidden in (False, True):
        check(reference, hidden=hidden)
        counts.append(int(re.search(r"all (\d+) cases", one_success_line(capfd, name)).group(1)))
    assert counts[1] > counts[0] >= 2


@pytest.fixture
def without_delegation_check(monkeypatch):
    """For tests of other features that build wrong answers on top of the reference implementation
    (``lambda z: 2 * relu(z)``): the delegation detector, tested in test_delegation.py, stays out."""
    from helpers.checks import framework
    monkeypatch.setattr(framework, "REFERENCE_MODULES", ())


def student_copy(fn):
    """The reference's code in a new function and code object, as a student who copies it would make
    it (the delegation detector must still recognise it, by content)."""
    import types
    copy = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    return copy
