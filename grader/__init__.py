"""Grading a class: ``python -m grader`` (``make grade``), on top of nbgrader.

Modules: ``submissions`` (finding each student's notebooks and the files handed in
with them), ``preflight`` (checking a submission against the release before it
runs), ``sandbox`` (isolation of the process that runs it), ``guard`` (tamper
detection inside that process), ``shell`` (the IPython shell it runs in: shell
escapes not run, the student's own tracebacks), ``kernel`` (running the cells),
``runner`` (parallel grading with time limits), ``report`` (statuses, grades.csv,
summary), ``gradebook`` (nbgrader's gradebook), ``feedback`` (nbgrader's feedback
converter with the course's preprocessors), ``mathml`` (formulas for feedback).
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one per grading process,
    os.environ.setdefault(_var, "1")  # effective when NumPy is not imported yet (kernel tells BLAS too)

from .feedback import PREPROCESSORS, HideHiddenTestOutput  # noqa: E402

__all__ = ["HideHiddenTestOutput", "PREPROCESSORS"]
