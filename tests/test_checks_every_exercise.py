"""The check of every exercise in the registry: the reference passes with one line, whatever the seed, and
the hidden tests add cases; the usual non-answers (a function that is not implemented yet, something that
is not a function, a function that returns None) get their plain message.  A new exercise is covered here
as soon as its ``@exercise`` line exists; the tests of each notebook's checks add its own mistakes."""
import numpy as np
import pytest

from conftest import assert_hidden_adds_cases, one_success_line
from helpers.checks.exercises import EXERCISES
from helpers.checks.interface import CheckFailure, NotImplementedYet

CHECKS = {name: exercise.check for exercises in EXERCISES.values() for name, exercise in exercises.items()}
REFERENCE = {name: exercise.reference for exercises in EXERCISES.values() for name, exercise in exercises.items()}
#: trained for minutes rather than checked in milliseconds: tests/test_checks_backprop.py runs its check on the
#: reference trainer (test_reference_training_passes_the_training_check)
TRAINERS = {"train_classifier"}


@pytest.mark.usefixtures("without_delegation_check")  # the reference itself is handed in as the answer
@pytest.mark.parametrize("name", [name for name in CHECKS if name not in TRAINERS])
@pytest.mark.parametrize("seed, hidden", [(0, False), (0, True), (7, False), (7, True), (101, True)])
def test_the_reference_passes_with_one_line(name, seed, hidden, capfd):
    CHECKS[name](REFERENCE[name], seed=seed, hidden=hidden)
    one_success_line(capfd, name)


@pytest.mark.usefixtures("without_delegation_check")
@pytest.mark.parametrize("name", [name for name in CHECKS if name not in TRAINERS])
def test_the_hidden_tests_add_cases(name, capfd):
    assert_hidden_adds_cases(CHECKS[name], REFERENCE[name], name, capfd)


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("name", list(CHECKS))
def test_not_implemented_says_so(name):
    with pytest.raises(NotImplementedYet, match=rf"^{name} is not implemented yet: replace `raise NotImplementedError"
                                                rf"\(\)` with your code, run that cell, then run this check again\.$"):
        CHECKS[name](not_implemented)


@pytest.mark.parametrize("name", list(CHECKS))
def test_not_a_function_names_the_argument_and_what_was_received(name):
    with pytest.raises(TypeError, match=rf"^check_{name}: argument '{name}' must be your function {name}; "
                                        rf"received None\. Pass the function itself: check_{name}\({name}\)"):
        CHECKS[name](None)
    with pytest.raises(TypeError, match=r"received array of shape \(3,\) and dtype float64"):
        CHECKS[name](np.zeros(3))


@pytest.mark.parametrize("name", list(CHECKS))
def test_returning_none_asks_for_the_return(name):
    with pytest.raises(CheckFailure, match=rf"^{name} returned None( on case: .*)?\nDid you forget the `return` "
                                           r"statement\?( It returns \(.*\)\.)?$"):
        CHECKS[name](lambda *args, **kwargs: None)


def test_every_assignment_is_covered():
    assert {"01_activations", "02_backprop", "03_ngram_vs_neural_lm", "04_rnn_lm_gradients", "05_lstm_gru",
            "06_generation"} <= set(EXERCISES) and len(CHECKS) >= 50
