"""``python -m grader --assignment A --submissions PATH`` (what ``make grade`` runs).

For each assignment (``--assignment all``: every assignment that has
submissions) it writes, under ``--out`` (default ``reports``):

    <assignment>/grades.csv       student_id, assignment, score, max_score, status, a column per
                                  exercise (points earned), detail
    <assignment>/summary.txt      counts per status, score distribution, what to review
    <assignment>/graded/<student>.ipynb    the graded notebook (for the instructor)
    <assignment>/feedback/<student>.html   nbgrader's feedback page, without hidden tests

and records the grades in nbgrader's gradebook (``--gradebook URL``; default: the
course's, ``sqlite:///<course>/gradebook.db``), where formgrader and ``nbgrader
export`` find them.  The students' files are only read.  Running it again gives the
same grades.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

from . import candidates as choice, gradebook, kernel, preflight, report, runner, submissions

ROOT = Path(__file__).resolve().parents[1]


class Progress:
    """A one-line progress bar on stderr (a line per tenth when stderr is not a terminal)."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.start, self.shown = label, total, 0, time.monotonic(), -1
        self.tty = sys.stderr.isatty()

    def __call__(self, _outcome=None) -> None:
        self.done += 1
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{rate:.2f}/s eta {(self.total - self.done) / rate:.0f}s")
        if self.tty:
            print("\r" + line, end="\n" if self.done == self.total else "", file=sys.stderr, flush=True)
        elif 10 * self.done // max(self.total, 1) != self.shown:
            self.shown = 10 * self.done // max(self.total, 1)
            print(line, file=sys.stderr, flush=True)


def versions_of(root: Path, assignment: str):
    """(the release notebook students received, the instructor's source with the hidden tests)."""
    release = root / "notebooks" / assignment / f"{assignment}.ipynb"
    source = root / "solutions" / assignment / f"{assignment}.ipynb"
    for path, hint in ((release, "run `make notebooks` first"), (source, "the hidden tests live there")):
        if not path.exists():
            raise SystemExit(f"make grade: {path} is missing; {hint}")
    return nbformat.read(release, as_version=4), nbformat.read(source, as_version=4)


def grade_assignment(assignment: str, found: dict, state: dict, args, hidden: list[str], root: Path,
                     problems: list[str], book) -> list:
    """Grade every submission of one assignment (``found``: student -> Submission); write its reports
    (``problems``: files that could not be attributed, for the summary) and record the grades in the
    gradebook (``book``: nbgrader's CourseDirectory with its db_url); return the Grades.

    A submission is read and prepared just before its process is forked, and its graded notebook is
    written as soon as it is done: the grader never holds other students' code when it forks."""
    release, source = versions_of(root, assignment)
    exercises = preflight.Exercises(release)
    total = report.max_score(release)
    out = Path(args.out) / assignment
    for sub in ("graded", "feedback"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    pending = Path(tempfile.mkdtemp(prefix="candidates-", dir=args.scratch))
    started = time.monotonic()
    limits = runner.Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                           memory_mb=args.memory_mb, figures=args.figures)
    candidates = {student: choice.collect(sub, release, source) for student, sub in found.items()}
    keys = [(student, k) for student in sorted(found) for k, c in enumerate(candidates[student])
            if c in choice.to_run(assignment, candidates[student])]
    waiting = {student: sum(1 for s, _ in keys if s == student) for student in found}
    bar = Progress(f"grading {assignment}", len(found))
    grades, isolation = [], []

    def cells_of(key):
        student, k = key
        prepared = preflight.prepare(candidates[student][k].path, release, source)
        if prepared.failure:
            return None
        files, _ = preflight.extra_files(found[student].extras)
        return prepared.cells, files

    def done(key, outcome):
        student, k = key
        candidate = candidates[student][k]
        prepared = preflight.prepare(candidate.path, release, source)
        prepared.notes += preflight.extra_files(found[student].extras, read=False)[1] if not prepared.failure else []
        g = report.grade(student, assignment, release, prepared, outcome, exercises, limits.cell_seconds,
                         limits.notebook_seconds)
        single = waiting[student] == 1 and len(candidates[student]) == 1
        target = out / "graded" / f"{student}.ipynb" if single else pending / f"{student}-{k}.ipynb"
        try:
            if g.nb is not None:
                nbformat.write(g.nb, target)
                candidate.graded_file = str(target)
        except Exception as err:  # this student's notebook only
            g = report.failed(student, assignment, exercises, total,
                              f"the graded notebook could not be written ({type(err).__name__}: {err})")
        g.nb = None
        candidate.grade = g
        if outcome is not None and outcome.isolation and not isolation:
            isolation.extend(outcome.isolation)
        waiting[student] -= 1
        if waiting[student] == 0:
            chosen = choice.choose(student, assignment, candidates[student], exercises, total)
            if not single and chosen.graded_file and chosen.grade.status != "failed":
                shutil.move(chosen.graded_file, out / "graded" / f"{student}.ipynb")
            finish(student, chosen.grade)

    def finish(student, g):
        g.detail = "; ".join(filter(None, found[student].notes + [g.detail]))
        grades.append(g)
        bar()

    for student in found:
        if waiting[student] == 0:  # nothing can run: every candidate failed its preflight
            finish(student, choice.choose(student, assignment, candidates[student], exercises, total).grade)
    runner.run_all(state, keys, cells_of, limits, args.jobs, hidden, done)
    shutil.rmtree(pending, ignore_errors=True)
    ran = time.monotonic() - started
    gradebook.record(book.db_url, book.course_id, assignment, grades)
    if not args.no_feedback:
        report.write_feedback(grades, out, assignment, args.jobs, book.db_url, args.scratch, exercises)
    report.write_grades(str(out / "grades.csv"), grades, exercises)
    text = report.summary(assignment, grades, isolation, ran, time.monotonic() - started - ran, problems)
    (out / "summary.txt").write_text(text, encoding="utf-8")
    print(text)
    return grades


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="make grade", description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", required=True, help="an assignment name, or 'all'")
    parser.add_argument("--submissions", required=True, help="submitted/ tree, folder of notebooks, or zip")
    parser.add_argument("--out", default=str(ROOT / "reports"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel gradings")
    parser.add_argument("--cell-timeout", type=float, default=30.0, help="seconds per cell")
    parser.add_argument("--notebook-timeout", type=float, default=300.0, help="seconds per notebook")
    parser.add_argument("--memory-mb", type=int, default=2048, help="memory per submission, MB")
    parser.add_argument("--no-feedback", action="store_true", help="skip the HTML feedback")
    parser.add_argument("--gradebook", metavar="URL",
                        help="nbgrader's gradebook to record the grades in (default: the course's, "
                             "sqlite:///<course>/gradebook.db)")
    parser.add_argument("--figures", action="store_true",
                        help="keep figures in graded notebooks and feedback (slower; figures are not graded)")
    parser.add_argument("--course", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for option, value in (("--jobs", args.jobs), ("--cell-timeout", args.cell_timeout),
                          ("--notebook-timeout", args.notebook_timeout), ("--memory-mb", args.memory_mb)):
        if value <= 0:
            parser.error(f"{option} must be a positive number; received {value:g}")
    if not hasattr(os, "fork"):
        parser.error("grading needs os.fork (Linux or macOS); on Windows, use WSL 2")
    root = Path(args.course)
    if not (root / "notebooks").is_dir():
        parser.error(f"{root / 'notebooks'} does not exist; run `make notebooks` first")
    known = sorted(p.name for p in (root / "notebooks").iterdir() if p.is_dir() and not p.name.startswith("."))
    wanted = known if args.assignment == "all" else [args.assignment]
    if args.assignment != "all" and args.assignment not in known:
        parser.error(f"ASSIGNMENT={args.assignment!r} is not one of {known + ['all']}")
    book = gradebook.course(str(root))
    if args.gradebook:
        book.db_url = args.gradebook
    args.scratch = scratch = tempfile.mkdtemp(prefix="grade-")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    try:
        try:
            found, problems = submissions.find(os.path.abspath(args.submissions), wanted, scratch, known,
                                               classify=_classifier(root, wanted), ignore=list(book.ignore))
        except (OSError, ValueError, zipfile.BadZipFile) as err:
            print(err, file=sys.stderr)
            return 2
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        graded = [a for a in wanted if found[a]]
        if not graded:
            print(f"no submissions of {', '.join(wanted)} found in {args.submissions}", file=sys.stderr)
            return 1
        try:
            for assignment in graded:
                gradebook.register(book.db_url, book.course_id, assignment, *versions_of(root, assignment))
        except gradebook.GradebookError as err:
            print(f"make grade: {err}", file=sys.stderr)
            return 2
        database = gradebook.sqlite_file(book.db_url)
        hidden = [str(root / d) for d in ("solutions", ".git", "submitted", "autograded", "feedback")] + \
                 [str(root / "gradebook.db"), os.path.abspath(args.submissions), os.path.abspath(args.out), scratch] + \
                 ([database, database + "-journal", database + "-wal"] if database else [])
        state = kernel.warm_up()
        for assignment in graded:
            grade_assignment(assignment, found[assignment], state, args, hidden, root, problems, book)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _classifier(root: Path, assignments: list[str]):
    """classify(path): the assignment whose release shares the most test and answer cells with the notebook
    at ``path`` (None if it shares none, or cannot be read)."""
    ids = {}
    for a in assignments:
        release = nbformat.read(root / "notebooks" / a / f"{a}.ipynb", as_version=4)
        ids[a] = {preflight.grade_id(c) for c in release.cells if preflight.grade_id(c) and
                  preflight.kind(c) != "locked"}

    def classify(path: str) -> str | None:
        data, failure = preflight.load(path)
        if failure:
            return None
        present = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in data["cells"]}
        best = max(ids, key=lambda a: len(ids[a] & present), default=None)
        return best if best is not None and ids[best] & present else None
    return classify


if __name__ == "__main__":
    sys.exit(main())
