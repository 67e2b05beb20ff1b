"""Several files that could be a student's notebook: which ones run, and which one's grade counts.

A student's *candidates* (``submissions.Submission.candidates``) are every file of theirs that looks
like the assignment's notebook: ``01_activations.ipynb``, ``01_activations-Copy1.ipynb``,
``scratch.ipynb``, ``x.ipynb.json`` ...  When there are several, each is checked first (not run):
one that is not a notebook of this assignment, or that is the release as handed out (no answer
changed, no code added) while another holds work, is set aside (``to_run``).  The others are all
graded; ``choose`` takes the one named as the assignment's notebook, else the most recently
modified, says in the row which file was graded and why and what became of the others, and makes
the row ``needs_review`` when they score differently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from . import preflight, report, submissions


@dataclass
class Candidate:
    """One of a student's files that may be their notebook of the assignment."""

    path: str
    name: str  # as the detail names it (relative to the student's folder)
    failure: str | None = None  # why it is not a notebook of this assignment (preflight)
    untouched: bool = False  # the release as handed out: no answer changed, no code added
    grade: report.Grade | None = None
    graded_file: str | None = None  # its graded notebook, while the choice is pending


def collect(submission, release, source) -> list[Candidate]:
    """The student's candidate files; when there are several, each is checked now (not run) so that an
    unworked copy of the release beside the student's work, or a file of another kind, is set aside."""
    base = submission.folder
    found = [Candidate(p, os.path.relpath(p, base) if base else os.path.basename(p)) for p in submission.candidates]
    if len(found) > 1:
        for c in found:
            prepared = preflight.prepare(c.path, release, source)
            c.failure, c.untouched = prepared.failure, prepared.untouched
    return found


def to_run(assignment: str, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates to run: those with work (or, if none has any, the one named as the assignment)."""
    if len(candidates) == 1:
        return candidates
    readable = [c for c in candidates if c.failure is None]
    worked = [c for c in readable if not c.untouched]
    if worked:
        return worked
    return sorted(readable, key=lambda c: (not canonical(c, assignment), c.name))[:1]


def canonical(c: Candidate, assignment: str) -> bool:
    """Named as the assignment's notebook (``01_activations.ipynb``; any case, any notebook suffix; no copy marker)."""
    return submissions.without_suffix(os.path.basename(c.path)).lower() == assignment.lower()


def choose(student: str, assignment: str, candidates: list[Candidate], exercises, total: float) -> Candidate:
    """The candidate whose grade counts, its detail saying which file was graded and why, and what became of
    the others; ``needs_review`` when candidates that ran score differently."""
    if len(candidates) == 1:
        return candidates[0]
    ran = [c for c in candidates if c.grade is not None]
    if not ran:
        detail = "; ".join(f"{c.name}: {c.failure}" for c in candidates)
        chosen = Candidate(candidates[0].path, candidates[0].name)
        chosen.grade = report.failed(student, assignment, exercises, total,
                                     f"none of the {len(candidates)} files handed in can be graded: {detail}")
        return chosen
    def preference(c: Candidate):
        return c.grade.status == "failed", not canonical(c, assignment), -os.path.getmtime(c.path), c.name
    chosen, *others = sorted(ran, key=preference)
    why = "the only one with answers" if not others and any(c.untouched for c in candidates) else \
        "the only one that could be read" if not others else \
        "named as the assignment's notebook" if canonical(chosen, assignment) else "the most recently modified"
    parts = [f"{len(candidates)} files could be the notebook: graded {chosen.name} ({why})"]
    for c in sorted(candidates, key=lambda c: c.name):
        if c is chosen:
            continue
        if c.grade is not None:
            score = f"nothing ({c.grade.detail})" if c.grade.score is None else f"{c.grade.score:g}"
            parts.append(f"{c.name} scored {score}")
        elif c.failure:
            parts.append(f"{c.name} was not graded: {c.failure}")
        else:
            parts.append(f"{c.name} was not graded: it is the release as handed out (no answer changed)")
    g = chosen.grade
    differ = [c for c in others if c.grade.score != g.score]
    if differ:
        g.status = "needs_review"
        g.review_cells = set(g.cells)
        parts[0] = "candidate notebooks score differently, look at which one counts: " + parts[0][0].lower() + \
            parts[0][1:]
    g.detail = "; ".join(filter(None, ["; ".join(parts), g.detail]))
    return chosen
