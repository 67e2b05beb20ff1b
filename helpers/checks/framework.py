"""The check framework: compare a student's function with the reference.

A check runs the student's function on a list of ``Case``s, compares every
output with the reference implementation's, and on the first mismatch raises
``AssertionError`` with a message that says exactly what is wrong: the case,
the output, the element, expected against received, and a hint for the usual
mistake.  It also catches a function that is not implemented, raises, returns
None or a non-array, returns the wrong shape or dtype, or modifies its inputs
in place.  Warnings raised while the student's code runs are captured (a
correct answer never loses points to a warning on stderr) and mentioned in
the one success line that is printed when every case passes.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..validate import describe


@dataclass
class Case:
    """One input to a checked function.

    label: what the case is, shown in messages ("extreme values z = [-1000, ..., 1000]").
    args, kwargs: the arguments, passed to the student's and the reference function.
    """

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


#: A hint looks at a failing case and may explain the usual mistake behind it.
Hint = Callable[[Case, tuple, tuple], "str | None"]


class CheckFailure(AssertionError):
    """A check found a mismatch; the message says what and where."""


def show_check_failure(shell, etype, value, tb, tb_offset=None):
    """IPython display of a CheckFailure: the message alone, after the traceback of the
    student's own error when there is one.  The checker's frames would only hide the message."""
    stb = []
    cause = value.__cause__
    if cause is not None:
        stb = shell.InteractiveTB.structured_traceback(type(cause), cause, cause.__traceback__)
        stb.append("\nThe check stopped at the error above:")
    stb.append(f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}")
    shell._showtraceback(etype, value, stb)
    return stb


def use_short_tracebacks() -> None:
    """In IPython (Jupyter), show failed checks with ``show_check_failure``."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((CheckFailure,), show_check_failure)


def fmt(x) -> str:
    """A compact rendering of a number or small array for messages."""
    if isinstance(x, np.ndarray) and x.size > 8:
        return f"array of shape {x.shape}"
    return np.array2string(np.asarray(x), precision=6, separator=", ", suppress_small=False) \
        if isinstance(x, np.ndarray) else f"{x:.8g}" if isinstance(x, (float, np.floating)) else repr(x)


def call_student(fn, name: str, case: Case, caught: list):
    """Run ``fn`` on a deep copy of the case's inputs; return its outputs.

    Raises CheckFailure if fn is not implemented, raises, or changes its inputs.
    Appends (case label, warning text) for each warning fn emits to ``caught``.
    """
    __tracebackhide__ = True  # IPython skips this frame in the student's traceback
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    with warnings.catch_warnings(record=True) as record, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            out = fn(*args, **kwargs)
        except NotImplementedError:
            raise CheckFailure(f"{name} is not implemented yet: replace `raise NotImplementedError()` "
                               f"with your code, run that cell, then run this check again.") from None
        except Exception as err:
            raise CheckFailure(f"{name} raised {type(err).__name__}: {err}\n  on case: {case.label}\n"
                               f"(see the traceback above for the line in your code)") from err
    caught.extend((case.label, f"{w.category.__name__}: {w.message}") for w in record)
    for original, after in zip(_leaves(case.args, case.kwargs), _leaves(args, kwargs)):
        if isinstance(original, np.ndarray) and not np.array_equal(original, after, equal_nan=True):
            raise CheckFailure(f"{name} modified its input in place on case: {case.label}\n"
                               f"Build a new array (e.g. `out = f(z)`) instead of writing into the argument "
                               f"(`z[...] = ...`, `z *= ...`, `np.exp(z, out=z)`).")
    return out


def _leaves(args, kwargs):
    """The arrays inside args and kwargs, in a fixed order (lists and tuples are opened)."""
    stack = list(args) + [kwargs[k] for k in sorted(kwargs)]
    out = []
    while stack:
        item = stack.pop(0)
        if isinstance(item, (list, tuple)):
            stack[:0] = list(item)
        else:
            out.append(item)
    return out


def as_outputs(value, name: str, names: tuple[str, ...], case: Case) -> tuple:
    """The function's return value as a tuple of arrays named ``names``; CheckFailure if it is not."""
    if value is None:
        raise CheckFailure(f"{name} returned None on case: {case.label}\nDid you forget the `return` statement?")
    if len(names) > 1:
        if not isinstance(value, (tuple, list)) or len(value) != len(names):
            raise CheckFailure(f"{name} must return a tuple ({', '.join(names)}); received {_kind(value)} "
                               f"on case: {case.label}")
        values = tuple(value)
    else:
        values = (value,)
    for n, v in zip(names, values):
        if not isinstance(v, (np.ndarray, np.generic)):
            what = f" for {n}" if len(names) > 1 else ""
            raise CheckFailure(f"{name} must return a NumPy array{what}; received {_kind(v)} on case: "
                               f"{case.label}\nUse NumPy operations (np.exp, np.maximum, ...) on the array.")
    return tuple(np.asarray(v) for v in values)


def _kind(v) -> str:
    """'list of length 3', 'int 5', 'None' ..."""
    if isinstance(v, (tuple, list)):
        return f"{type(v).__name__} of length {len(v)}"
    return describe(v)


def compare(name: str, case: Case, expected: tuple, received: tuple, names: tuple[str, ...],
            rtol: float, atol: float) -> str | None:
    """A description of the first difference between two output tuples, or None if they agree."""
    problems = []
    for n, exp, got in zip(names, expected, received):
        label = f"{name}" if len(names) == 1 else f"{n} returned by {name}"
        if got.shape != exp.shape:
            problems.append((n, f"{label} has shape {got.shape}; expected shape {exp.shape}"))
        elif got.dtype != exp.dtype:
            problems.append((n, f"{label} has dtype {got.dtype}; expected dtype {exp.dtype}"
                                + (" (convert with .astype(float))" if exp.dtype.kind == "f" else "")))
        else:
            diff = _first_difference(case, exp, got, rtol, atol)
            if diff:
                problems.append((n, f"{label} is wrong {diff}"))
    if not problems:
        return None
    message = problems[0][1]
    if len(names) > 1:
        good = [n for n in names if n not in {p[0] for p in problems}]
        bad = [p[0] for p in problems]
        if good:
            message = f"{', '.join(good)} {'is' if len(good) == 1 else 'are'} correct but " \
                      f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not.\n" + message
    return f"{message}\n  on case: {case.label}"


def _first_difference(case: Case, exp: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> str | None:
    """'at index i (z = ...): expected e, received r (k of n elements differ)' or None."""
    bad = ~np.isclose(got, exp, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return None
    if exp.ndim == 0:
        return f": expected {fmt(exp.item())}, received {fmt(got.item())}"
    scale = np.where(np.isfinite(got) & np.isfinite(exp), np.abs(got - exp) / (atol + rtol * np.abs(exp)), np.inf)
    i = np.unravel_index(np.argmax(np.where(bad, scale, -1.0)), exp.shape)
    at = ""
    first = case.args[0] if case.args else None
    if isinstance(first, np.ndarray) and first.shape == exp.shape:  # elementwise: show the input too
        at = f" (input {fmt(float(first[i]))})"
    return (f"at index {tuple(int(j) for j in i)}{at}: expected {fmt(float(exp[i]))}, received {fmt(float(got[i]))}"
            f" ({int(bad.sum())} of {bad.size} elements differ)")


def run_check(student_fn, reference_fn, cases: list[Case], *, name: str, names: tuple[str, ...] = ("output",),
              hints: tuple[Hint, ...] = (), rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Check ``student_fn`` against ``reference_fn`` on ``cases``.

    Raises CheckFailure (an AssertionError) at the first case that differs, with
    the first applicable hint; prints one success line when all cases pass.
    """
    if not callable(student_fn):
        raise TypeError(f"check_{name}: argument '{name}' must be your function {name}; received "
                        f"{_kind(student_fn)}. Pass the function itself: check_{name}({name}).")
    caught: list = []
    for case in cases:
        got = as_outputs(call_student(student_fn, name, case, caught), name, names, case)
        expected = reference_fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        expected = tuple(np.asarray(e) for e in (expected if len(names) > 1 else (expected,)))
        problem = compare(name, case, expected, got, names, rtol, atol)
        if problem:
            hint = next((h for h in (hint(case, expected, got) for hint in hints) if h), None)
            raise CheckFailure(problem + (f"\nHint: {hint}" if hint else ""))
    note = ""
    if caught:
        label, text = caught[0]
        note = f" (note: it emitted {text} on case: {label}; correct, but worth avoiding)"
    print(f"✓ {name}: all {len(cases)} cases pass{note}")


def close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    """Whether two arrays have the same shape and values (used by hints)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))
