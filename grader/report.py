"""From what ran to grades: the graded notebook, the status, grades.csv, the summary, feedback.

A test cell earns its points when it ran without an error: nbgrader's
``determine_grade`` on the cell's error outputs only (stderr output does not cost
points, unlike nbgrader's own rule: the checks capture warnings, and a student's
stray print to stderr is not a wrong answer).  The status of a submission is

* ``failed`` when no trustworthy grade exists (unreadable file, grader error,
  a process that kept dying): the score is left empty, never a silent 0;
* ``needs_review`` when it was graded but an instructor should look first
  (tampering, delegation to the reference, a process that died, a graded cell
  the release does not have, a test that was stopped at its time limit or cut off
  by the notebook's, candidate notebooks that score differently): the score is
  what the checks gave;
* ``graded`` otherwise.  ``detail`` lists everything that was noticed, naming
  cells by their exercise.
"""
from __future__ import annotations

import copy
import csv
import os
import statistics
from dataclasses import dataclass, field

import nbformat
from nbgrader.utils import determine_grade, is_grade, is_solution

from . import feedback
from .preflight import Exercises, grade_id

FIRST_COLUMNS = ["student_id", "assignment", "score", "max_score", "status"]
DELEGATION = "ReferenceDelegation"
MAX_FLAGS = 10
MAX_LINES_LISTED = 5


@dataclass
class Grade:
    student_id: str
    assignment: str
    score: float | None
    max_score: float
    status: str
    detail: str
    exercises: dict = field(default_factory=dict)  # exercise -> points earned (None: failed)
    cells: dict = field(default_factory=dict)  # test cell grade_id -> points earned (None: failed)
    review_cells: set = field(default_factory=set)  # test cells an instructor should look at (formgrader)
    nb: object = None  # the graded notebook, None when grading failed

    def row(self, exercises: Exercises) -> dict:
        def number(x):
            return "" if x is None else f"{x:g}"
        row = {"student_id": self.student_id, "assignment": self.assignment, "score": number(self.score),
               "max_score": f"{self.max_score:g}", "status": self.status, "detail": self.detail}
        row.update({column(name, points): number(self.exercises.get(name))
                    for name, points in exercises.tests.values()})
        return row


def column(exercise: str, points: float) -> str:
    """The grades.csv column of an exercise: its name and its points, e.g. ``relu (10)``."""
    return f"{exercise} ({points:g})"


def max_score(release) -> float:
    return float(sum(c.metadata["nbgrader"].get("points", 0) for c in release.cells
                     if is_grade(c) and not is_solution(c)))


def _earned(cell, result) -> float:
    """nbgrader's ``determine_grade`` on the cell's error outputs: its points if it ran without an error."""
    view = copy.deepcopy(cell)
    view.outputs = [nbformat.from_dict(o) for o in result["outputs"] if o.get("output_type") == "error"] \
        if result is not None else [nbformat.v4.new_output("error", ename="NotRun", evalue="", traceback=[])]
    earned, _ = determine_grade(view)
    return float(earned)


def failed(student: str, assignment: str, exercises: Exercises, total: float, detail: str) -> Grade:
    tests = list(exercises.tests)
    return Grade(student, assignment, None, total, "failed", detail,
                 exercises={name: None for name, _ in exercises.tests.values()},
                 cells=dict.fromkeys(tests), review_cells=set(tests))


def _not_run(nb, k: int, why: str) -> None:
    nb.cells[k].outputs = [nbformat.v4.new_output("error", ename="NotRun", evalue=why, traceback=[f"NotRun: {why}"])]


def grade(student: str, assignment: str, release, prepared, outcome, exercises: Exercises,
          cell_seconds: float = 30.0, notebook_seconds: float = 300.0) -> Grade:
    """Combine the preflight (``prepared``) and the run (``outcome``, or None) into a Grade."""
    total = max_score(release)
    if prepared.failure or outcome is None or outcome.failure:
        reason = prepared.failure or (outcome.failure if outcome else "not run")
        if outcome is not None and outcome.failure_cell is not None and prepared.nb is not None:
            reason += f" (last in {exercises.label(prepared.nb, outcome.failure_cell)})"
        return failed(student, assignment, exercises, total, "; ".join([reason] + prepared.notes))
    nb = copy.deepcopy(prepared.nb)
    found = _Findings(list(prepared.review), list(prepared.notes), all_cells=bool(prepared.review))
    label = lambda k: exercises.label(nb, k)  # noqa: E731
    _fill_outputs(nb, outcome, label, found, notebook_seconds)
    scores, lost = _score_tests(nb, outcome, found)
    _time_limits(nb, outcome, exercises, lost, label, found, cell_seconds)
    _notebook_limit(outcome, exercises, lost, label, found, notebook_seconds)
    flags = outcome.flags[:MAX_FLAGS] + ([f"and {len(outcome.flags) - MAX_FLAGS} more"]
                                         if len(outcome.flags) > MAX_FLAGS else [])
    found.review += [f"tampering: {flag}" for flag in flags]
    found.review += [f"process died: {label(k)}: {why}; the notebook was run again without it"
                     for k, why in outcome.died]
    found.all_cells |= bool(flags or outcome.died)
    found.notes += _neutralised(outcome.neutralised, label)
    return Grade(student, assignment, sum(scores.values()), total, "needs_review" if found.review else "graded",
                 "; ".join(found.review + found.notes),
                 exercises={exercises.exercise(gid): earned for gid, earned in scores.items()}, cells=scores,
                 review_cells=set(scores) if found.all_cells else found.cells, nb=nb)


@dataclass
class _Findings:
    """What grading one submission noticed: reasons to review, notes, and the test cells concerned."""

    review: list
    notes: list
    all_cells: bool = False  # the review concerns the whole submission (tampering ...)
    cells: set = field(default_factory=set)


def _fill_outputs(nb, outcome, label, found: _Findings, notebook_seconds: float) -> None:
    """The outputs of each cell that ran; a "not run" error in the cells the notebook limit cut off."""
    count = 0
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        result = outcome.cells.get(k)
        if result is not None:
            count += 1
            cell.execution_count = count
            cell.outputs = [nbformat.from_dict(o) for o in result["outputs"]]
            if result["truncated"]:
                found.notes.append(f"the output of {label(k)} was cut at the size limit")
        elif outcome.stopped is not None:
            _not_run(nb, k, f"the notebook was stopped at its limit of {notebook_seconds:g} s before this cell")


def _score_tests(nb, outcome, found: _Findings) -> tuple[dict, dict]:
    """({test grade_id: points earned}, {index: grade_id of each test that lost points}); delegation noted."""
    scores, lost = {}, {}
    for k, cell in enumerate(nb.cells):
        if not (is_grade(cell) and not is_solution(cell)):
            continue
        gid, result = grade_id(cell), outcome.cells.get(k)
        cell.metadata["nbgrader"]["score"] = scores[gid] = _earned(cell, result)
        if scores[gid] < float(cell.metadata["nbgrader"]["points"]):
            lost[k] = gid
        if result is not None and result["error"] == DELEGATION:
            message = next((o["evalue"] for o in result["outputs"] if o["output_type"] == "error"), "")
            found.review.append(f"{gid}: {message.splitlines()[0] if message else 'delegation'}")
            found.cells.add(gid)
    return scores, lost


def _time_limits(nb, outcome, exercises: Exercises, lost: dict, label, found: _Findings, cell_seconds: float):
    """Cells stopped at their time limit: a test that lost its points there, or tests that failed after such
    a cell, are to review (the grade may depend on the machine's load); other stops are notes."""
    stopped = {k for k, r in outcome.cells.items() if r["error"] == "CellTimeout"} | {k for k, _ in outcome.timed_out}
    ignored = dict(outcome.timed_out)
    for k in sorted(stopped):
        what = f"{label(k)} ignored its {cell_seconds:g} s time limit and was stopped; the notebook was run again " \
               "without it" if k in ignored else f"{label(k)} was stopped at its {cell_seconds:g} s time limit"
        gid = grade_id(nb.cells[k])
        affected = [g for j, g in lost.items() if j >= k and outcome.cells.get(j) is not None]
        if gid in exercises.tests and gid in affected:
            found.review.append(f"{what}: an endless loop in {exercises.exercise(gid)}, or a slow machine?")
            found.cells.add(gid)
        elif affected:
            found.review.append(f"{what}, before the tests of {', '.join(exercises.exercise(g) for g in affected)} "
                                "failed: they may have failed because of it")
            found.cells.update(affected)
        else:
            found.notes.append(what)


def _notebook_limit(outcome, exercises: Exercises, lost: dict, label, found: _Findings, notebook_seconds: float):
    """The notebook's own limit: after the last test a note; before tests that had not run, a review."""
    if outcome.stopped is None:
        return
    where = "between cells" if outcome.stopped < 0 else f"in {label(outcome.stopped)}"
    cut = [g for j, g in lost.items() if outcome.cells.get(j) is None]
    what = f"the notebook was stopped at its limit of {notebook_seconds:g} s per notebook, {where}"
    if cut:
        found.review.append(f"{what}: the tests of {', '.join(exercises.exercise(g) for g in cut)} did not run and "
                            "scored 0")
        found.cells.update(cut)
    else:
        found.notes.append(f"{what}, after its last graded cell: every test had run")


def _neutralised(lines: list, label) -> list[str]:
    """One note per kind: the shell commands and installs that were not run, and %prun run unprofiled;
    lines grouped by the cell they were in."""
    notes = []
    for how in dict.fromkeys(h for _, _, h in lines):
        cells = {}
        for k, line, h in lines:
            if h == how:
                cells.setdefault(k, []).append(f"`{line}`")
        listed = [f"{', '.join(dict.fromkeys(shown))} in {label(k)}" for k, shown in cells.items()]
        more = f" and {len(listed) - MAX_LINES_LISTED} more cells" if len(listed) > MAX_LINES_LISTED else ""
        notes.append(f"{how} while grading{' (no shell commands or installs)' if how == 'not run' else ''}: "
                     f"{'; '.join(listed[:MAX_LINES_LISTED])}{more}")
    return notes


def write_grades(path: str, grades: list[Grade], exercises: Exercises) -> None:
    """grades.csv: the first columns, one column per exercise (points earned), then the detail."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    columns = FIRST_COLUMNS + [column(n, p) for n, p in exercises.tests.values()] + ["detail"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for g in sorted(grades, key=lambda g: g.student_id):
            writer.writerow(g.row(exercises))


def summary(assignment: str, grades: list[Grade], isolation: list[str], seconds: float,
            report_seconds: float, problems: list[str] = ()) -> str:
    """Counts per status, the score distribution, the submissions to look at, and the isolation that held."""
    total = seconds + report_seconds
    lines = [f"{assignment}: {len(grades)} submissions graded in {total:.1f} s ({len(grades) / max(total, 1e-9):.2f} "
             f"per second): {seconds:.1f} s running them, {report_seconds:.1f} s writing grades and feedback"]
    for status in ("graded", "needs_review", "failed"):
        lines.append(f"  {status:<13} {sum(g.status == status for g in grades)}")
    scores = [g.score for g in grades if g.score is not None]
    if scores:
        total = grades[0].max_score or 1.0
        lines.append(f"scores (of {total:g}): mean {statistics.mean(scores):.1f}, median "
                     f"{statistics.median(scores):g}, min {min(scores):g}, max {max(scores):g}")
        for lo in range(0, 100, 10):
            n = sum(lo <= 100 * s / total < lo + 10 or (lo == 90 and s == total) for s in scores)
            lines.append(f"  {lo:>3}-{lo + 10 if lo < 90 else 100:<3}% {n:>4} {'#' * n}")
    for g in sorted(grades, key=lambda g: g.student_id):
        if g.status != "graded":
            lines.append(f"{g.status}: {g.student_id}: {g.detail}")
    lines += [f"not graded: {problem}" for problem in problems]
    ran = bool(isolation) or any(g.status != "failed" for g in grades)
    lines.append("isolation: " + (", ".join(isolation) if isolation else "none (see README)" if ran
                                  else "not applicable (no submission ran)"))
    return "\n".join(lines) + "\n"


def plain_feedback(g: Grade, exercises: Exercises) -> str:
    """A complete feedback page in plain HTML (when nbgrader's cannot be rendered): score, then each test's
    exercise, score and message (hidden tests' messages are their one-line reason only)."""
    rows = []
    for cell in (g.nb.cells if g.nb is not None else []):
        gid = grade_id(cell)
        if gid in exercises.tests and is_grade(cell) and not is_solution(cell):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            message = f"{errors[0].get('ename', '')}: {errors[0].get('evalue', '')}" if errors else "passed"
            rows.append((exercises.exercise(gid), float(cell.metadata["nbgrader"].get("score", 0)),
                         float(cell.metadata["nbgrader"]["points"]), feedback.redact(message)[:2000]))
    return feedback.plain_page(g.assignment, g.score or 0.0, g.max_score, rows,
                               "This is a plain version of your feedback: the full page could not be rendered.")


def write_feedback(grades: list[Grade], out, assignment: str, jobs: int, db_url: str, scratch: str,
                   exercises: Exercises) -> None:
    """The feedback page of every graded student (nbgrader's converter, see ``feedback.write_pages``); a page
    that had to be replaced by a plain one is noted in that student's detail."""
    rendered = {g.student_id: g for g in grades if g.status != "failed"}
    pages = {s: os.path.join(out, "graded", f"{s}.ipynb") for s in rendered}

    def plain(student: str) -> str:
        g = rendered[student]
        g.nb = nbformat.read(pages[student], as_version=4)
        try:
            return plain_feedback(g, exercises)
        finally:
            g.nb = None

    problems = feedback.write_pages(pages, assignment, db_url, os.path.join(out, "feedback"), scratch, jobs, plain)
    for student, problem in problems.items():
        g = rendered[student]
        g.detail = "; ".join(filter(None, [g.detail, problem]))
