"""The course's exercises, each declared by one line: the ``@exercise(...)`` above its check.

    @exercise("01_activations", points=15, reference=activations.sigmoid)
    def check_sigmoid(sigmoid, seed=0, hidden=False): ...

declares the exercise ``sigmoid`` of 01_activations: the function the student writes
(also the grade_id of its answer cell; its test cell is ``test_sigmoid``), its
points, its check and its reference implementation.  Everything else is derived
from these lines: the ``check_*`` names that ``helpers.checks`` exports, the
progress table, the modules the delegation detector watches, and what the tests
compare.  Exercises are listed in the order their checks are defined (the modules
of ``helpers.checks`` in alphabetical order), which must be the notebook's order.

The solution notebook stays what nbgrader trusts: ``make test`` checks that its
nbgrader metadata and its headings "(P points): `name`" agree with these lines, in
the same order, and it reads the hidden tests' seeds from the notebook itself.
To add an exercise, see docs/authoring.md.
"""
from __future__ import annotations

import functools
import types
from dataclasses import dataclass
from typing import Callable

#: a check records its outcome on the function it checked, in this attribute: the exercise's name once it
#: passes, FAILED when it failed, RUNNING while it runs (left there when it was interrupted: an endless loop?),
#: so that experiments can use the student's function without running its check again
#: (see helpers.checks.yours_or_reference)
PASSED, FAILED, RUNNING = "__passes_check__", "failed", "running"


def _record(fn, outcome: str) -> None:
    try:
        setattr(fn, PASSED, outcome)
    except (AttributeError, TypeError):  # a builtin or a method cannot carry it: its check then runs again
        pass


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``check(fn, seed=0, hidden=False)`` grades the student's ``fn`` against ``reference``."""

    assignment: str
    name: str
    points: int
    reference: Callable
    check: Callable

    @property
    def module(self) -> str:
        """The module of helpers that holds the reference ("activations")."""
        return self.reference.__module__.split(".", 1)[1]


#: assignment -> exercise name -> Exercise, in the order of the notebooks
EXERCISES: dict[str, dict[str, Exercise]] = {}


def exercise(assignment: str, *, points: int, reference: Callable):
    """Declare the check it decorates, ``check_<name>``, as the check of exercise ``<name>`` of ``assignment``."""
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValueError(f"exercise: argument 'points' must be a positive integer; received {points!r}")
    if not isinstance(reference, types.FunctionType) or not reference.__module__.startswith("helpers."):
        raise TypeError(f"exercise: argument 'reference' must be a function of helpers; received {reference!r}")

    def register(check: Callable) -> Callable:
        name = check.__name__.removeprefix("check_")
        if name != reference.__name__ or check.__name__ != f"check_{name}":
            raise ValueError(f"exercise: the check of {reference.__name__} must be called check_{reference.__name__}; "
                             f"received {check.__name__}")
        if any(name in exercises for exercises in EXERCISES.values()):
            raise ValueError(f"exercise: {name} is declared twice")

        @functools.wraps(check)
        def checked(fn, *args, **kwargs):
            _record(fn, RUNNING)
            try:
                check(fn, *args, **kwargs)
            except Exception:
                _record(fn, FAILED)
                raise
            _record(fn, name)

        EXERCISES.setdefault(assignment, {})[name] = Exercise(assignment, name, points, reference, checked)
        return checked

    return register


def by_name(name: str) -> Exercise:
    """The exercise called ``name`` (exercise names are unique across the course)."""
    for exercises in EXERCISES.values():
        if name in exercises:
            return exercises[name]
    raise KeyError(f"no exercise called {name!r}: is its check decorated with @exercise(...)?")


def reference_modules() -> tuple[str, ...]:
    """The modules of helpers that hold the reference implementations of exercises."""
    return tuple(sorted({e.module for exercises in EXERCISES.values() for e in exercises.values()}))
