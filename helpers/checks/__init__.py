"""Checks for every exercise, and a progress table per notebook.

In a notebook::

    from helpers.checks import check_sigmoid
    check_sigmoid(sigmoid)               # one line on success, a precise AssertionError otherwise
    show_progress("01_activations", globals())   # which exercises pass, at a glance
"""
from __future__ import annotations

import contextlib
import html
import io

import importlib
import pkgutil

from . import framework
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
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                e.check(namespace[name])
            rows.append((name, points, "passes", ""))
        except Exception as err:  # a failed check, or a name that is not a function
            status = "not started" if isinstance(err, framework.NotImplementedYet) else "fails"
            rows.append((name, points, status, " ".join(line.strip() for line in str(err).splitlines()[:2])))
    return rows


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
           "show_progress"] + [
    f"check_{name}" for exercises in EXERCISES.values() for name in exercises]
