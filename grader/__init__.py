"""Grading a class: ``python -m grader`` (``make grade``), on top of nbgrader.

Modules: ``submissions`` (finding each student's notebook), ``preflight``
(checking a submission against the release before it runs), ``sandbox``
(isolation of the process that runs it), ``guard`` (tamper detection inside
that process), ``kernel`` (running the cells), ``runner`` (parallel grading with
time limits), ``report`` (grades.csv, summary, feedback), ``feedback`` (the
nbgrader preprocessor that keeps hidden tests out of feedback).
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one per grading process,
    os.environ.setdefault(_var, "1")  # effective when NumPy is not imported yet (kernel tells BLAS too)

from .feedback import HideHiddenTestOutput  # noqa: E402

__all__ = ["HideHiddenTestOutput"]
