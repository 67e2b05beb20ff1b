"""The course's exercises, one line each: the only place where an exercise is declared.

A line names the assignment, the exercise (the function the student writes, which is
also the grade_id of its answer cell; its test cell is ``test_<name>``), its points,
and its reference implementation as ``"<module of helpers>.<function>"``.  Everything
else is derived: the check is the function ``check_<name>`` of a module of
``helpers.checks``; the module of the reference is where the delegation detector
looks; the progress table lists the exercises in this order, which is the order of
the notebook.  The solution notebook stays what nbgrader trusts: ``make test``
checks that its nbgrader metadata, its headings "(P points): `name`" and this table
agree, and it reads the hidden tests' seeds from the notebook itself.

To add an exercise, see docs/authoring.md.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

TABLE = (
    # assignment               exercise                      points  reference
    ("01_activations",         "sigmoid",                    15,     "activations.sigmoid"),
    ("01_activations",         "sigmoid_grad",               10,     "activations.sigmoid_grad"),
    ("01_activations",         "tanh_grad",                  10,     "activations.tanh_grad"),
    ("01_activations",         "relu",                       10,     "activations.relu"),
    ("01_activations",         "relu_grad",                  10,     "activations.relu_grad"),
    ("01_activations",         "softmax",                    15,     "activations.softmax"),
    ("01_activations",         "collapse_linear",            15,     "linear.collapse_linear"),
    ("01_activations",         "fit_affine",                 15,     "linear.fit_affine"),
    ("02_backprop",            "average_pool_forward",       8,      "classifier.average_pool_forward"),
    ("02_backprop",            "binary_cross_entropy",       10,     "losses.binary_cross_entropy"),
    ("02_backprop",            "binary_cross_entropy_grad",  5,      "losses.binary_cross_entropy_grad"),
    ("02_backprop",            "numerical_gradient",         8,      "gradcheck.numerical_gradient"),
    ("02_backprop",            "affine_forward",             5,      "layers.affine_forward"),
    ("02_backprop",            "affine_backward",            10,     "layers.affine_backward"),
    ("02_backprop",            "mlp_backward",               12,     "mlp.mlp_backward"),
    ("02_backprop",            "classifier_forward",         8,      "classifier.classifier_forward"),
    ("02_backprop",            "average_pool_backward",      10,     "classifier.average_pool_backward"),
    ("02_backprop",            "classifier_backward",        12,     "classifier.classifier_backward"),
    ("02_backprop",            "sgd_step",                   4,      "optim.sgd_step"),
    ("02_backprop",            "train_classifier",           8,      "classifier.train_classifier"),
    ("03_ngram_vs_neural_lm",  "ngram_counts",               10,     "ngram.ngram_counts"),
    ("03_ngram_vs_neural_lm",  "add_k_prob",                 8,      "ngram.add_k_prob"),
    ("03_ngram_vs_neural_lm",  "interpolated_prob",          7,      "ngram.interpolated_prob"),
    ("03_ngram_vs_neural_lm",  "sentence_logprob",           12,     "ngram.sentence_logprob"),
    ("03_ngram_vs_neural_lm",  "perplexity",                 8,      "ngram.perplexity"),
    ("03_ngram_vs_neural_lm",  "unseen_share",               8,      "ngram.unseen_share"),
    ("03_ngram_vs_neural_lm",  "softmax_cross_entropy",      12,     "losses.softmax_cross_entropy"),
    ("03_ngram_vs_neural_lm",  "window_lm_forward",          15,     "window_lm.window_lm_forward"),
    ("03_ngram_vs_neural_lm",  "window_lm_backward",         20,     "window_lm.window_lm_backward"),
)


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``check(fn, seed=0, hidden=False)`` grades the student's ``fn`` against ``reference``."""

    assignment: str
    name: str
    points: int
    target: str  # "<module>.<function>" in helpers

    @property
    def module(self) -> str:
        """The module of helpers that holds the reference ("activations")."""
        return self.target.rsplit(".", 1)[0]

    @property
    def reference(self):
        """The reference implementation (helpers.<module>.<name>)."""
        module, function = self.target.rsplit(".", 1)
        return getattr(importlib.import_module(f"helpers.{module}"), function)

    @property
    def check(self):
        """The check ``check_<name>``, from whichever module of helpers.checks defines it."""
        return check_functions()[f"check_{self.name}"]


def _exercises() -> dict:
    found: dict = {}
    for assignment, name, points, target in TABLE:
        if name in found.get(assignment, {}):
            raise ValueError(f"helpers/checks/exercises.py: exercise {name!r} of {assignment} is listed twice")
        found.setdefault(assignment, {})[name] = Exercise(assignment, name, points, target)
    return found


#: assignment -> exercise name -> Exercise, in the order of the notebooks
EXERCISES = _exercises()


def exercise(name: str) -> Exercise:
    """The exercise called ``name`` (exercise names are unique across the course)."""
    for exercises in EXERCISES.values():
        if name in exercises:
            return exercises[name]
    raise KeyError(f"no exercise called {name!r}; see helpers/checks/exercises.py")


def reference_modules() -> tuple[str, ...]:
    """The modules of helpers that hold reference implementations of exercises."""
    return tuple(sorted({e.module for exercises in EXERCISES.values() for e in exercises.values()}))


_CHECKS: dict = {}


def check_functions() -> dict:
    """``check_<name>`` -> function, from every module of helpers.checks."""
    if not _CHECKS:
        package = importlib.import_module(__package__)
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{__package__}.{info.name}")
            _CHECKS.update({k: v for k, v in vars(module).items() if k.startswith("check_") and callable(v)
                            and getattr(v, "__module__", None) == module.__name__})
    return _CHECKS
