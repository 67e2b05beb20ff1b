"""Checks for every exercise, and a progress table per notebook.

In a notebook::

    from helpers.checks import check_sigmoid
    check_sigmoid(sigmoid)               # one line on success, a precise AssertionError otherwise
    show_progress("01_activations", globals())   # which exercises pass, at a glance
"""
from __future__ import annotations

import contextlib
import html
import importlib
import io
import pkgutil
import types

from . import exercises, framework
from .exercises import EXERCISES, Exercise, by_name, reference_modules
from .framework import Case, CheckFailure, run_check, use_short_tracebacks

for _info in pkgutil.iter_modules(__path__):  # every module of checks: each @exercise(...) declares one exercise
    importlib.import_module(f"{__name__}.{_info.name}")
del _info
from .backprop import TRAIN_SCHEDULE  # noqa: E402

framework.REFERENCE_MODULES = reference_modules()
use_short_tracebacks()
framework.check_code()  # the checks' own code, known before any student code runs
globals().update({f"check_{name}": e.check for exercises in EXERCISES.values() for name, e in exercises.items()})


def progress(assignment: str, namespace: dict) -> list[tuple[str, int, str, str]]:
    """Run every visible check of ``assignment`` on the functions in ``namespace``.

    A function whose check has passed already (the check records it on the function object, so a
    redefined function is checked afresh) is not checked again.
    Returns rows (exercise, points, status, detail) with status one of
    'passes', 'fails', 'not started' (still raises NotImplementedError), 'missing'.
    """
    if assignment not in EXERCISES:
        raise ValueError(f"progress: argument 'assignment' must be one of {sorted(EXERCISES)}; "
                         f"received {assignment!r}")
    rows = []
    for name, e in EXERCISES[assignment].items():
        points = e.points
        if name not in namespace:
            rows.append((name, points, "missing", f"no {name} defined yet: run its cell"))
            continue
        if getattr(namespace[name], exercises.PASSED, None) == exercises.RUNNING:
            rows.append((name, points, "fails", f"its check did not finish when it last ran (an endless loop?): "
                                                f"fix {name}, run its cell, then its check"))
            continue
        if getattr(namespace[name], exercises.PASSED, None) == name:
            rows.append((name, points, "passes", ""))
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                e.check(namespace[name])
            rows.append((name, points, "passes", ""))
        except Exception as err:  # a failed check, or a name that is not a function
            status = "not started" if isinstance(err, framework.NotImplementedYet) else "fails"
            rows.append((name, points, status, " ".join(line.strip() for line in str(err).splitlines()[:2])))
    return rows


def _passes(name: str, namespace: dict) -> bool:
    """Whether the notebook's function ``name`` passes its visible check (run quietly if it has not passed yet)."""
    fn = namespace.get(name)
    if fn is None:
        return False
    outcome = getattr(fn, exercises.PASSED, None)
    if outcome is not None:  # its check ran already: passed, failed, or was interrupted (not run again)
        return outcome == name
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            by_name(name).check(fn)
    except Exception:  # a failed check, an error in the function, a name that is not a function
        return False
    return True


def _uses(fn, namespace: dict) -> list[str]:
    """The exercises whose functions ``fn`` calls from the notebook, directly or through the others: the
    student's own functions (a tool the notebook imports from helpers, such as sigmoid in 02, is not one)."""
    known = {n for ex in EXERCISES.values() for n in ex}
    found, todo = [], [fn]
    while todo:
        code = getattr(todo.pop(), "__code__", None)
        codes = framework._codes(types.SimpleNamespace(__code__=code)) if code is not None else []
        for name in sorted({n for c in codes for n in c.co_names} & known - set(found)):
            if not str(getattr(namespace.get(name), "__module__", "")).startswith("helpers"):
                found.append(name)
                todo.append(namespace.get(name))
    return found


def yours_or_reference(namespace: dict, *names: str):
    """For an experiment: your function ``name`` from the notebook (``globals()``) once it passes its check,
    and every function of another exercise that it calls passes too; the reference implementation otherwise.
    Prints which one is used, and why.  Returns the function, or a tuple of them for several names."""
    chosen = []
    for name in names:
        reference = by_name(name).reference
        fn = namespace.get(name)
        if fn is None:
            why = f"you have not defined {name} yet"
        elif not _passes(name, namespace):
            why = f"your {name} does not pass its check yet"
        else:
            failing = [n for n in _uses(fn, namespace) if n != name and not _passes(n, namespace)]
            why = f"your {name} calls your {failing[0]}, which does not pass its check yet" if failing else ""
        chosen.append(reference if why else fn)
        print(f"Using the reference {name}: {why}." if why else f"Using your {name}.")
    return chosen[0] if len(chosen) == 1 else tuple(chosen)


_ICONS = {"passes": "✅", "fails": "❌", "not started": "⬜", "missing": "⬜"}


def show_progress(assignment: str, namespace: dict) -> None:
    """Display the progress table of ``assignment`` (HTML in Jupyter, text elsewhere)."""
    rows = progress(assignment, namespace)
    done = sum(p for _, p, s, _ in rows if s == "passes")
    total = sum(p for _, p, _, _ in rows)
    title = f"{assignment}: {sum(s == 'passes' for _, _, s, _ in rows)} of {len(rows)} exercises pass " \
            f"({done} of {total} points from the visible checks)"
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
        if get_ipython() is None:
            raise ImportError
    except ImportError:
        print(title)
        for name, points, status, detail in rows:
            print(f"  {_ICONS[status]} {name:<18} {points:>3} pts  {status}  {detail}")
        return
    body = "".join(
        f"<tr><td>{_ICONS[s]}</td><td><code>{html.escape(n)}</code></td><td>{p}</td><td>{s}</td>"
        f"<td style='text-align:left'>{html.escape(d)}</td></tr>" for n, p, s, d in rows)
    display(HTML(f"<b>{html.escape(title)}</b><table><tr><th></th><th>exercise</th><th>points</th>"
                 f"<th>status</th><th style='text-align:left'>first problem</th></tr>{body}</table>"))


__all__ = ["Case", "CheckFailure", "EXERCISES", "Exercise", "TRAIN_SCHEDULE", "by_name", "progress", "run_check",
           "show_progress", "yours_or_reference"] + [
    f"check_{name}" for exercises in EXERCISES.values() for name in exercises]
