"""``python -m helpers.grading --assignment A --submissions PATH`` (what ``make grade`` runs).

For each assignment (``--assignment all``: every assignment that has
submissions) it writes, under ``--out`` (default ``reports``):

    <assignment>/grades.csv       student_id, assignment, score, max_score, status, detail
    <assignment>/summary.txt      counts per status, score distribution, what to review
    <assignment>/graded/<student>.ipynb    the graded notebook (for the instructor)
    <assignment>/feedback/<student>.html   nbgrader's feedback page, without hidden tests

The students' files are only read.  Running it again gives the same grades.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from . import kernel, preflight, report, runner, submissions

ROOT = Path(__file__).resolve().parents[2]


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


def release_of(root: Path, assignment: str):
    path = root / "notebooks" / assignment / f"{assignment}.ipynb"
    if not path.exists():
        raise SystemExit(f"make grade: no release notebook {path}; run `make notebooks` first")
    return nbformat.read(path, as_version=4)


def grade_assignment(assignment: str, found: dict, state: dict, args, hidden: list[str], root: Path) -> list:
    """Grade every submission of one assignment; write its reports; return the Grades."""
    release = release_of(root, assignment)
    started = time.monotonic()
    prepared = {s: preflight.prepare(p, release) for s, p in sorted(found.items())}
    jobs = [((s,), p.cells, hidden) for s, p in prepared.items() if not p.failure]
    limits = runner.Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                           memory_mb=args.memory_mb, figures=args.figures)
    bar = Progress(f"grading {assignment}", len(prepared))
    for _ in range(len(prepared) - len(jobs)):
        bar()
    outcomes = runner.run_all(state, jobs, limits, args.jobs, bar)
    ran = time.monotonic() - started
    grades = [report.grade(s, assignment, release, p, outcomes.get((s,))) for s, p in prepared.items()]
    out = Path(args.out) / assignment
    for sub in ("graded", "feedback"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    report.write_notebooks(grades, out, not args.no_feedback, args.jobs)
    report.write_grades(str(out / "grades.csv"), grades)
    isolation = next((o.isolation for o in outcomes.values() if o.isolation), [])
    text = report.summary(assignment, grades, isolation, ran, time.monotonic() - started - ran)
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
    parser.add_argument("--figures", action="store_true",
                        help="keep figures in graded notebooks and feedback (slower; figures are not graded)")
    parser.add_argument("--course", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = Path(args.course)
    known = sorted(p.name for p in (root / "notebooks").iterdir() if p.is_dir() and not p.name.startswith("."))
    wanted = known if args.assignment == "all" else [args.assignment]
    if args.assignment != "all" and args.assignment not in known:
        parser.error(f"ASSIGNMENT={args.assignment!r} is not one of {known + ['all']}")
    scratch = tempfile.mkdtemp(prefix="grade-")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    try:
        found, problems = submissions.find(os.path.abspath(args.submissions), wanted, scratch, known)
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        hidden = [str(root / d) for d in ("solutions", ".git", "submitted", "autograded", "feedback")] + \
                 [str(root / "gradebook.db"), os.path.abspath(args.submissions), os.path.abspath(args.out), scratch]
        state = kernel.warm_up()
        graded = [a for a in wanted if found[a]]
        if not graded:
            print(f"no submissions of {', '.join(wanted)} found in {args.submissions}", file=sys.stderr)
            return 1
        for assignment in graded:
            grade_assignment(assignment, found[assignment], state, args, hidden, root)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
