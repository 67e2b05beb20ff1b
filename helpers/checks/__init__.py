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

from .activations import (check_relu, check_relu_grad, check_sigmoid, check_sigmoid_grad, check_softmax,
                          check_tanh_grad)
from . import framework
from .framework import Case, CheckFailure, run_check, use_short_tracebacks
from .backprop import (check_affine_backward, check_affine_forward, check_average_pool_backward,
                       check_average_pool_forward, check_binary_cross_entropy, check_binary_cross_entropy_grad,
                       check_classifier_backward, check_classifier_forward, check_mlp_backward,
                       check_numerical_gradient, check_sgd_step, check_train_classifier, TRAIN_SCHEDULE)
from .linear import check_collapse_linear, check_fit_affine
from .lm import (check_add_k_prob, check_interpolated_prob, check_ngram_counts, check_perplexity,
                 check_sentence_logprob, check_softmax_cross_entropy, check_unseen_share, check_window_lm_backward,
                 check_window_lm_forward)

use_short_tracebacks()
framework.check_code()  # the checks' own code, known before any student code runs

def _alone(check, name):
    """Run ``check`` on the student's function ``name`` from a notebook's namespace."""
    return lambda ns: check(ns[name])


#: assignment -> exercise name -> (points, run) where run(namespace) runs the visible check
EXERCISES = {
    "01_activations": {name: (points, _alone(check, name)) for name, points, check in (
        ("sigmoid", 15, check_sigmoid),
        ("sigmoid_grad", 10, check_sigmoid_grad),
        ("tanh_grad", 10, check_tanh_grad),
        ("relu", 10, check_relu),
        ("relu_grad", 10, check_relu_grad),
        ("softmax", 15, check_softmax),
        ("collapse_linear", 15, check_collapse_linear),
        ("fit_affine", 15, check_fit_affine),
    )},
    "02_backprop": {
        **{name: (points, _alone(check, name)) for name, points, check in (
            ("average_pool_forward", 8, check_average_pool_forward),
            ("binary_cross_entropy", 10, check_binary_cross_entropy),
            ("binary_cross_entropy_grad", 5, check_binary_cross_entropy_grad),
            ("numerical_gradient", 8, check_numerical_gradient),
            ("affine_forward", 5, check_affine_forward),
            ("affine_backward", 10, check_affine_backward),
            ("mlp_backward", 12, check_mlp_backward),
            ("classifier_forward", 8, check_classifier_forward),
            ("average_pool_backward", 10, check_average_pool_backward),
            ("classifier_backward", 12, check_classifier_backward),
            ("sgd_step", 4, check_sgd_step),
            ("train_classifier", 8, check_train_classifier),
        )},
    },
    "03_ngram_vs_neural_lm": {name: (points, _alone(check, name)) for name, points, check in (
        ("ngram_counts", 10, check_ngram_counts),
        ("add_k_prob", 8, check_add_k_prob),
        ("interpolated_prob", 7, check_interpolated_prob),
        ("sentence_logprob", 12, check_sentence_logprob),
        ("perplexity", 8, check_perplexity),
        ("unseen_share", 8, check_unseen_share),
        ("softmax_cross_entropy", 12, check_softmax_cross_entropy),
        ("window_lm_forward", 15, check_window_lm_forward),
        ("window_lm_backward", 20, check_window_lm_backward),
    )},
}


def progress(assignment: str, namespace: dict) -> list[tuple[str, int, str, str]]:
    """Run every visible check of ``assignment`` on the functions in ``namespace``.

    Returns rows (exercise, points, status, detail) with status one of
    'passes', 'fails', 'not started' (still raises NotImplementedError), 'missing'.
    """
    if assignment not in EXERCISES:
        raise ValueError(f"progress: argument 'assignment' must be one of {sorted(EXERCISES)}; "
                         f"received {assignment!r}")
    rows = []
    for name, (points, run) in EXERCISES[assignment].items():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run(namespace)
            rows.append((name, points, "passes", ""))
        except KeyError as err:
            rows.append((name, points, "missing", f"no {err.args[0]} defined yet: run its cell"))
        except Exception as err:  # a failed check, or a name that is not a function
            text = str(err)
            status = "not started" if "not implemented yet" in text else "fails"
            rows.append((name, points, status, " ".join(line.strip() for line in text.splitlines()[:2])))
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


__all__ = ["Case", "CheckFailure", "EXERCISES", "TRAIN_SCHEDULE", "progress", "run_check", "show_progress"] + [
    f"check_{name}" for exercises in EXERCISES.values() for name in exercises]
