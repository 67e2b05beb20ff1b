"""From what ran to grades: the graded notebook, the status, grades.csv, the summary, feedback.

A test cell earns its points when it ran without an error (stderr output does
not cost points: the checks capture warnings, and a student's stray print to
stderr is not a wrong answer).  The status of a submission is

* ``failed`` when no trustworthy grade exists (unreadable file, grader error,
  notebook time limit): the score is left empty, never a silent 0;
* ``needs_review`` when it was graded but an instructor should look first
  (tampering, delegation to the reference, a process that died, a graded cell
  the release does not have): the score is what the checks gave;
* ``graded`` otherwise.  ``detail`` lists everything that was noticed.
"""
from __future__ import annotations

import copy
import csv
import os
import statistics
from dataclasses import dataclass

import nbformat

from .feedback import HideHiddenTestOutput

COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "detail"]
DELEGATION = "ReferenceDelegation"
FEEDBACK_OUTPUT_CHARS = 5000
MAX_FLAGS = 10


@dataclass
class Grade:
    student_id: str
    assignment: str
    score: float | None
    max_score: float
    status: str
    detail: str
    nb: object = None  # the graded notebook, None when grading failed

    def row(self) -> dict:
        score = "" if self.score is None else f"{self.score:g}"
        return {"student_id": self.student_id, "assignment": self.assignment, "score": score,
                "max_score": f"{self.max_score:g}", "status": self.status, "detail": self.detail}


def max_score(release) -> float:
    return float(sum(c.metadata["nbgrader"].get("points", 0) for c in release.cells
                     if c.metadata.get("nbgrader", {}).get("grade")))


def grade(student: str, assignment: str, release, prepared, outcome) -> Grade:
    """Combine the preflight (``prepared``) and the run (``outcome``, or None) into a Grade."""
    total = max_score(release)
    if prepared.failure or outcome is None or outcome.failure:
        reason = prepared.failure or (outcome.failure if outcome else "not run")
        return Grade(student, assignment, None, total, "failed", "; ".join([reason] + prepared.notes))
    nb = copy.deepcopy(prepared.nb)
    score, review, notes = 0.0, list(prepared.review), list(prepared.notes)
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
                notes.append(f"the output of cell {k} was cut at the size limit")
            if result["error"] == "CellTimeout":
                notes.append(f"cell {k} was stopped at the time limit")
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            error = result["error"] if result else "not run"
            earned = float(meta["points"]) if error is None else 0.0
            meta["score"], score = earned, score + earned
            if error == DELEGATION:
                message = next((o["evalue"] for o in result["outputs"] if o["output_type"] == "error"), "")
                review.append(f"{meta['grade_id']}: {message.splitlines()[0] if message else 'delegation'}")
    flags = outcome.flags[:MAX_FLAGS] + ([f"and {len(outcome.flags) - MAX_FLAGS} more"]
                                         if len(outcome.flags) > MAX_FLAGS else [])
    review += [f"tampering: {flag}" for flag in flags]
    review += [f"process died: {d}" for d in outcome.died]
    notes += outcome.notes
    status = "needs_review" if review else "graded"
    return Grade(student, assignment, score, total, status, "; ".join(review + notes), nb)


def write_grades(path: str, grades: list[Grade]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for g in sorted(grades, key=lambda g: g.student_id):
            writer.writerow(g.row())


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


def feedback_notebook(g: Grade):
    """The graded notebook as the student may see it: no hidden tests (neither their source nor a
    traceback quoting them), outputs capped, no script or HTML that the student's code produced."""
    from nbgrader.preprocessors import ClearHiddenTests
    nb = copy.deepcopy(g.nb)
    hide, clear = HideHiddenTestOutput(), ClearHiddenTests()
    for k, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):  # only the course's test cells hold hidden tests
            if hide.begin_test_delimeter in cell.source:  # what the student's code printed while the hidden
                cell.outputs = [o for o in map(_check_lines, cell.outputs) if o]  # tests ran could show their inputs
            hide.preprocess_cell(cell, {}, k)
            clear.preprocess_cell(cell, {}, k)
            meta.setdefault("score", 0.0)
        locked = meta.get("locked", False)
        cell.outputs = [_capped(o, locked) for o in cell.get("outputs", [])]
    return nb


def _check_lines(output):
    """A test cell's output reduced to the checks' own lines (✓ ...) and its error; None for the rest."""
    if output.get("output_type") == "stream":
        output["text"] = "".join(line for line in output["text"].splitlines(True) if line.startswith("✓ "))
        return output if output["text"] else None
    return output if output.get("output_type") == "error" else None


def _capped(output, trusted: bool):
    """One output for feedback: text cut at FEEDBACK_OUTPUT_CHARS; from the student's cells, only
    plain text and images (no HTML or JavaScript runs in the reader's browser)."""
    if output.get("output_type") == "stream":
        if len(output["text"]) > FEEDBACK_OUTPUT_CHARS:
            output["text"] = output["text"][:FEEDBACK_OUTPUT_CHARS] + "\n[... output cut ...]\n"
    elif output.get("output_type") == "error":
        output["traceback"] = [line[:FEEDBACK_OUTPUT_CHARS] for line in output["traceback"][-30:]]
    elif "data" in output:
        keep = ("text/plain", "image/png", "image/jpeg") if not trusted else tuple(output["data"])
        output["data"] = {k: v for k, v in output["data"].items() if k in keep and isinstance(v, str)}
        if isinstance(output["data"].get("text/plain"), str):
            output["data"]["text/plain"] = output["data"]["text/plain"][:FEEDBACK_OUTPUT_CHARS]
    return output


_exporter = {}


def feedback_html(g: Grade) -> str:
    """nbgrader's feedback page (its own template) for a graded submission."""
    if "html" not in _exporter:
        import nbgrader
        from nbconvert.exporters import HTMLExporter
        from traitlets.config import Config
        base = os.path.dirname(nbgrader.__file__)
        config = Config()
        config.HTMLExporter.template_name = "feedback"
        config.HTMLExporter.extra_template_basedirs = [
            os.path.join(base, "server_extensions", "formgrader", "templates")]
        config.HTMLExporter.extra_template_paths = [os.path.join(base, "server_extensions", "formgrader", "static",
                                                                 "node_modules", "bootstrap", "dist", "css")]
        _exporter["html"] = HTMLExporter(config=config)
    resources = {"nbgrader": {"notebook": g.assignment, "score": g.score, "max_score": g.max_score,
                              "late_penalty": 0}}
    body, _ = _exporter["html"].from_notebook_node(feedback_notebook(g), resources=resources)
    return body


_TO_RENDER: list = []


def _render(k: int, out: str) -> str | None:
    """Write the feedback page of the k-th grade from its graded notebook; None, or why it failed."""
    g = _TO_RENDER[k]
    try:
        g.nb = nbformat.read(os.path.join(out, "graded", f"{g.student_id}.ipynb"), as_version=4)
        with open(os.path.join(out, "feedback", f"{g.student_id}.html"), "w", encoding="utf-8") as f:
            f.write(feedback_html(g))
    except Exception as err:  # one student's odd outputs must not cost the others their feedback
        return f"feedback could not be rendered ({type(err).__name__}: {err})"
    return None


def write_feedback(grades: list, out, jobs: int) -> None:
    """The feedback page of every graded student, rendered in ``jobs`` forked processes; a page that
    cannot be rendered is noted in that student's detail."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    _TO_RENDER[:] = [g for g in grades if g.status != "failed"]
    with ProcessPoolExecutor(max(1, jobs), mp_context=multiprocessing.get_context("fork")) as pool:
        problems = list(pool.map(_render, range(len(_TO_RENDER)), [str(out)] * len(_TO_RENDER)))
    for g, problem in zip(_TO_RENDER, problems):
        if problem:
            g.detail = "; ".join(filter(None, [g.detail, problem]))
