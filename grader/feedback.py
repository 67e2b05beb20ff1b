"""Feedback pages: nbgrader's ``GenerateFeedback`` converter with the course's preprocessors.

``PREPROCESSORS`` is the list both grading paths use (``make grade`` here, and plain
``nbgrader generate_feedback`` through ``nbgrader_config.py``):

* nbgrader's ``GetGrades`` (scores from the gradebook), nbconvert's
  ``CSSHTMLHeaderPreprocessor`` and nbgrader's ``LimitOutput`` (lines per output);
* ``StudentView``: in a test cell that holds hidden tests, only the checks' own
  lines and the error stay (what the student's code printed while the hidden
  tests ran could show their inputs); outputs of the student's cells are plain
  text and images only (no HTML or JavaScript runs in the reader's browser);
  text is cut at ``FEEDBACK_OUTPUT_CHARS``; the course's, Python's and the
  grader's paths are replaced by ``…``; a reference to a missing image
  attachment becomes a note instead of an error;
* ``HideHiddenTestOutput`` then nbgrader's ``ClearHiddenTests`` (on the course's
  cells only: ``ClearHiddenTestCells``): nbgrader's
  ``ClearHiddenTests`` removes the hidden-test *source*, but a failing hidden
  test also prints an IPython traceback, which quotes the lines around the
  failing call, hidden tests included: each error of such a cell is reduced to
  its one-line message ("CheckFailure: softmax is wrong at index ... on case
  ..."), which says what is wrong without showing code;
* ``NameTests`` (each test cell's exercise, for the table of contents) and
  ``MathAsMathML`` (formulas as MathML, which browsers render offline).

``write_pages`` renders a class's pages in parallel, each worker running one
``GenerateFeedback`` over a temporary course folder and the gradebook; the page
template (``grader/templates/course_feedback``) extends nbgrader's ``feedback``
template: tests named by their exercise, long lines wrapped, no MathJax from a
CDN.  A page nbgrader cannot render is replaced by a plain one with the scores
and messages (``plain_page``), and the student's row says so.
"""
from __future__ import annotations

import html
import logging
import os
import re
import shutil
import sys

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, LimitOutput, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_locked, is_solution
from traitlets import Unicode

from . import mathml

FEEDBACK_OUTPUT_CHARS = 5000
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE = "course_feedback"
_COURSE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _private_paths() -> list[str]:
    """Folders of the instructor's machine that feedback must not show, longest first."""
    paths = {_COURSE, sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.expanduser("~")}
    paths |= {p for p in sys.path if p and os.path.isabs(p) and p not in ("/", "/tmp")}
    return sorted((p.rstrip("/") for p in paths if len(p) > 1), key=len, reverse=True)


_PRIVATE = re.compile("|".join(re.escape(p) + r"(?=/|\b)" for p in _private_paths()))


def redact(text: str) -> str:
    """``text`` without the paths of the course, Python or the instructor's home (each becomes ``…``)."""
    return _PRIVATE.sub("…", text)


def _check_lines(output):
    """A test cell's output reduced to the checks' own lines (✓ ...) and its error; None for the rest."""
    if output.get("output_type") == "stream":
        output["text"] = "".join(line for line in output["text"].splitlines(True) if line.startswith("✓ "))
        return output if output["text"] else None
    return output if output.get("output_type") == "error" else None


def _capped(output, trusted: bool):
    """One output for feedback: text cut at FEEDBACK_OUTPUT_CHARS, paths redacted; from the student's
    cells, only plain text and images."""
    if output.get("output_type") == "stream":
        text = output["text"]
        output["text"] = redact(text[:FEEDBACK_OUTPUT_CHARS]) + ("\n[... output cut ...]\n"
                                                                 if len(text) > FEEDBACK_OUTPUT_CHARS else "")
    elif output.get("output_type") == "error":
        output["traceback"] = [redact(line[:FEEDBACK_OUTPUT_CHARS]) for line in output.get("traceback", [])[-30:]]
        output["evalue"] = redact(str(output.get("evalue", "")))
    elif "data" in output:
        keep = ("text/plain", "image/png", "image/jpeg") if not trusted else tuple(output["data"])
        output["data"] = {k: v for k, v in output["data"].items() if k in keep and isinstance(v, str)}
        if isinstance(output["data"].get("text/plain"), str):
            output["data"]["text/plain"] = redact(output["data"]["text/plain"][:FEEDBACK_OUTPUT_CHARS])
    return output


_ATTACHMENT = re.compile(r"!\[([^\]]*)\]\(attachment:([^)\s]+)[^)]*\)")


class StudentView(NbGraderPreprocessor):
    """What a student may see of the outputs (see the module docstring)."""

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            if is_grade(cell) and not is_solution(cell) and self.begin_test_delimeter in cell.source:
                cell.outputs = [o for o in map(_check_lines, cell.outputs) if o]
            cell.outputs = [_capped(o, is_locked(cell) and not is_solution(cell)) for o in cell.outputs]
        elif cell.cell_type == "markdown":
            attached = cell.get("attachments") or {}
            cell.source = _ATTACHMENT.sub(lambda m: m.group(0) if m.group(2) in attached else
                                          f"*[image {m.group(2)}: not in the notebook]*", cell.source)
        return cell, resources


class HideHiddenTestOutput(NbGraderPreprocessor):
    """Replace tracebacks of the course's cells with hidden tests by the error's one-line message."""

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and is_locked(cell) and self.begin_test_delimeter in cell.source:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


class ClearHiddenTestCells(ClearHiddenTests):
    """nbgrader's ClearHiddenTests on the course's own cells only (locked and test cells, where hidden tests
    live): a student's cell that merely mentions the marker ("### BEGIN HIDDEN TESTS" in a comment, without
    its end) is shown as written, instead of stopping the page with "No end hidden tests statement found"."""

    def preprocess_cell(self, cell, resources, cell_index):
        if is_locked(cell):
            return super().preprocess_cell(cell, resources, cell_index)
        return cell, resources


def exercise_names(nb) -> dict[str, str]:
    """Test cell grade_id -> the exercise it grades: the answer cell before it (``test_relu`` -> ``relu``)."""
    names, answer = {}, None
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if is_solution(cell):
            answer = gid
        elif is_grade(cell) and gid:
            names[gid] = gid[len("test_"):] if gid.startswith("test_") else answer or gid
    return names


class NameTests(NbGraderPreprocessor):
    """Each test cell's exercise in ``cell.metadata.exercise`` (the template's table of contents shows it)."""

    def preprocess(self, nb, resources):
        for gid, name in exercise_names(nb).items():
            for cell in nb.cells:
                if cell.metadata.get("nbgrader", {}).get("grade_id") == gid:
                    cell.metadata["exercise"] = name
        return nb, resources


class MathAsMathML(NbGraderPreprocessor):
    """The TeX of Markdown cells as MathML (``grader.mathml``): formulas show offline, without MathJax."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "markdown":
            cell.source, _ = mathml.markdown_with_mathml(cell.source)
        return cell, resources


PREPROCESSORS = [GetGrades, CSSHTMLHeaderPreprocessor, LimitOutput, StudentView, HideHiddenTestOutput,
                 ClearHiddenTestCells, NameTests, MathAsMathML]


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter, converting each Markdown text once per process: the pages of a class share
    the release's Markdown, which is most of the time nbconvert spends on a page."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._converted: dict[str, str] = {}

    @pass_context
    def markdown2html(self, context, source):
        if context.get("cell", {}).get("attachments"):  # (images of that cell only)
            return super().markdown2html(context, source)
        if source not in self._converted:
            self._converted[source] = super().markdown2html(context, source)
        return self._converted[source]


class _Errors(logging.Handler):
    """Collects, from nbgrader's log, why a student's page could not be converted."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.current, self.errors = None, {}

    def emit(self, record) -> None:
        message = record.getMessage()
        match = re.search(r"error processing assignment: (.*)$", message)
        if match:
            self.current = os.path.basename(os.path.dirname(match.group(1).rstrip("/")))
        elif self.current and message.startswith("Traceback"):
            self.errors[self.current] = message.strip().splitlines()[-1][:300]
            self.current = None


def _convert(root: str, assignment: str, db_url: str) -> dict[str, str]:
    """Run nbgrader's GenerateFeedback over the course folder ``root`` (autograded/<student>/<assignment>);
    returns {student: why the page could not be converted}."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    config = Config()
    config.GenerateFeedback.preprocessors = PREPROCESSORS
    config.GenerateFeedback.force = True
    config.GenerateFeedback.exporter_class = FeedbackExporter
    config.HTMLExporter.template_name = TEMPLATE
    config.HTMLExporter.template_file = f"{TEMPLATE}.html.j2"  # extends nbgrader's index.html.j2
    log = logging.getLogger(f"grader.feedback.{os.getpid()}")
    log.propagate, errors = False, _Errors()
    log.addHandler(errors)
    coursedir = CourseDirectory(root=root, assignment_id=assignment, student_id="*", db_url=db_url, log=log)
    converter = GenerateFeedback(coursedir=coursedir, config=config, log=log)
    converter.update_config(Config({"HTMLExporter": {  # our template first, then nbgrader's own folders
        "extra_template_basedirs": [TEMPLATES, *converter.config.HTMLExporter.extra_template_basedirs]}}))
    try:
        converter.start()
    except Exception as err:  # nbgrader stops after converting what it could; the rest gets plain pages
        errors.errors.setdefault("", f"{type(err).__name__}: {err}")
    return errors.errors


def write_pages(pages: dict[str, str], assignment: str, db_url: str, out: str, scratch: str, jobs: int,
                plain) -> dict[str, str]:
    """Render the feedback page of each student in ``pages`` (student -> graded notebook path) into
    ``out/<student>.html``, in ``jobs`` forked processes; a page that could not be rendered is replaced
    by ``plain(student)`` (a complete page in plain HTML).  Returns {student: what went wrong}."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    students = sorted(pages)
    jobs = max(1, min(jobs, len(students)))
    roots = [os.path.join(scratch, f"feedback-{k}") for k in range(jobs)]
    for k, student in enumerate(students):
        folder = os.path.join(roots[k % jobs], "autograded", student, assignment)
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(pages[student], os.path.join(folder, f"{assignment}.ipynb"))
    errors: dict[str, str] = {}
    if students:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            for found in pool.map(_convert, roots, [assignment] * jobs, [db_url] * jobs):
                errors.update(found)
    problems = {}
    for k, student in enumerate(students):
        page = os.path.join(roots[k % jobs], "feedback", student, assignment, f"{assignment}.html")
        target = os.path.join(out, f"{student}.html")
        if os.path.isfile(page) and os.path.getsize(page) > 0:
            shutil.move(page, target)
            continue
        why = errors.get(student) or errors.get("") or "nbgrader wrote no page"
        problems[student] = f"the feedback page could not be rendered ({redact(why)}); a plain page with the " \
                            "scores and messages was written instead"
        with open(target, "w", encoding="utf-8") as f:
            f.write(plain(student))
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)
    return problems


def plain_page(title: str, score, max_score: float, rows: list[tuple[str, float, float, str]], note: str) -> str:
    """A complete feedback page without nbgrader's template: the score, then one row per test (exercise,
    score, points, message)."""
    esc = html.escape
    body = "".join(f"<tr><td>{esc(name)}</td><td>{got:g} / {points:g}</td><td><pre>{esc(message)}</pre></td></tr>"
                   for name, got, points, message in rows)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:.3em .6em;"
            "vertical-align:top;text-align:left}pre{white-space:pre-wrap;margin:0}</style></head><body>"
            f"<h1>{esc(title)}</h1><p><b>Score: {score:g} / {max_score:g}</b></p><p>{esc(note)}</p>"
            f"<table><tr><th>exercise</th><th>score</th><th>message</th></tr>{body}</table></body></html>\n")
