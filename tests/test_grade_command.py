"""`make grade` on the adversarial corpus of 01_activations: every expected status, score and
detail; the students' files untouched; the same grades on a re-run; feedback without hidden
tests, paths or MathJax, with capped output and tests named by their exercise; the grades in
nbgrader's gradebook and in `nbgrader export`; nothing written outside the sandbox; the other
input layouts."""
from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import nbformat
import pytest
from adversarial import (CORPUS, FILES, FULL, GRAD_GID, NOTEBOOK_LIMIT, PIXEL, POINTS, TIME_LIMIT_CASES, ZIPPED,
                         Link)
from conftest import ROOT
from course import student_version

from grader.preflight import Exercises
from grader.report import column

ASSIGNMENT = "01_activations"
# generous limits: an honest cell never comes near them, however busy the machine (the slowest honest test cell,
# 02's training check, takes about 1 s on an idle machine); the time limit itself is tested with cells that run
# forever, under SHORT_LIMIT, still about 20 times what the slowest honest cell of 01 takes; the notebook limit
# of that run is NOTEBOOK_LIMIT, reached by the slow_* cases (eight cells stopped at 10 s each)
OPTIONS = ["--cell-timeout", "60", "--notebook-timeout", "300", "--memory-mb", "1024"]
SHORT_LIMIT = ["--cell-timeout", "10", "--notebook-timeout", str(NOTEBOOK_LIMIT)]


def grade_command(submissions: Path, out: Path, *extra: str, assignment: str = ASSIGNMENT, gradebook: Path = None):
    """Run the grader as `make grade` does, with a gradebook of its own (never the repository's);
    returns (exit code, output, {student: row})."""
    book = gradebook or out.parent / f"{out.name}-gradebook.db"
    result = subprocess.run([sys.executable, "-m", "grader", "--assignment", assignment,
                             "--submissions", str(submissions), "--out", str(out), *OPTIONS,
                             "--gradebook", f"sqlite:///{book}", *extra],
                            capture_output=True, text=True, timeout=900, cwd=ROOT)
    rows = {}
    for path in sorted(out.glob("*/grades.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            rows.update({(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)})
    return result.returncode, result.stdout + result.stderr, rows


def versions():
    release = nbformat.read(ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    return student_version(release, solution), student_version(release, None)


def checksums(folder: Path) -> dict:
    """Every file under folder (links as their target) -> its SHA-256."""
    return {str(p.relative_to(folder)): os.readlink(p) if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() or p.is_symlink()}


def write(path: Path, made) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(made, Link):
        path.symlink_to(made)
    elif isinstance(made, bytes):
        path.write_bytes(made)
    else:
        nbformat.write(made, path)


class RawName(zipfile.ZipInfo):
    """A zip member whose name is stored as the given bytes, with or without the UTF-8 flag, as archivers
    other than Python's write them (optionally with Info-ZIP's Unicode path field)."""

    def __init__(self, raw: bytes, utf8_flag: bool, unicode_path: str | None) -> None:
        super().__init__(raw.decode("utf-8") if utf8_flag else raw.decode("cp437"), (2024, 5, 6, 7, 8, 10))
        self.raw, self.utf8_flag = raw, utf8_flag
        if unicode_path is not None:
            body = b"\x01" + zlib.crc32(raw).to_bytes(4, "little") + unicode_path.encode()
            self.extra = (0x7075).to_bytes(2, "little") + len(body).to_bytes(2, "little") + body

    def _encodeFilenameFlags(self):  # (zipfile's own hook: how the name is written)
        return self.raw, (self.flag_bits | 0x800) if self.utf8_flag else (self.flag_bits & ~0x800)


EXERCISES = Exercises(nbformat.read(ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4))
EXPECTED = {**{s: (status, score, detail) for s, (_, status, score, detail) in CORPUS.items()},
            **{s: (status, score, detail) for s, (_, status, score, detail) in FILES.items()},
            **{s: ("graded", FULL, detail) for s, (*_, detail) in ZIPPED.items()}}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Write the corpus (a folder of <student>.ipynb files, nbgrader folders and odd names; the time-limit cases
    apart; the zipped names in a zip) and grade it, every run into one gradebook."""
    base = tmp_path_factory.mktemp("corpus")
    folder, timed = base / "class", base / "timed"
    folder.mkdir()
    timed.mkdir()
    book = base / "gradebook.db"
    places = {"outside": [str(base / "outside.txt"), str(ROOT / "pwned.txt"), "/root/pwned.txt"],
              "solution": str(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), "gradebook": str(book)}
    repository_book = ROOT / "gradebook.db"
    untouched = repository_book.stat().st_mtime_ns if repository_book.exists() else None
    solved, blank = versions()
    for student, (build, *_) in CORPUS.items():
        write((timed if student in TIME_LIMIT_CASES else folder) / f"{student}.ipynb", build(solved, blank, places))
    for student, (files, *_) in FILES.items():
        for path, build in files.items():
            write(folder / path, build(solved, blank, places))
    archive = base / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for student, (raw, flag, unicode_path, _) in ZIPPED.items():
            z.writestr(RawName(b"class/" + raw, flag, unicode_path and "class/" + unicode_path),
                       nbformat.writes(solved))
    before = {**checksums(folder), **checksums(timed)}
    code, output, rows = grade_command(folder, base / "reports", gradebook=book)
    timed_code, timed_output, timed_rows = grade_command(timed, base / "timed-reports", *SHORT_LIMIT, gradebook=book)
    zip_code, zip_output, zip_rows = grade_command(archive, base / "zip-reports", "--no-feedback", gradebook=book)
    return {"base": base, "folder": folder, "timed": timed, "before": before, "code": code + timed_code + zip_code,
            "output": output + timed_output + zip_output, "rows": {**rows, **timed_rows, **zip_rows},
            "places": places, "gradebook": book, "repository_gradebook": untouched}


def test_the_command_succeeds_and_grades_everyone(corpus):
    assert corpus["code"] == 0, corpus["output"]
    assert {s for _, s in corpus["rows"]} == set(EXPECTED), corpus["output"]


@pytest.mark.parametrize("student", list(EXPECTED))
def test_each_submission_gets_its_expected_grade(corpus, student):
    status, score, detail = EXPECTED[student]
    row = corpus["rows"][(ASSIGNMENT, student)]
    assert row["status"] == status, row
    assert row["score"] == ("" if score is None else f"{score:g}"), row
    assert row["max_score"] == "100", row
    assert re.search(detail, row["detail"]), row


def test_grades_have_a_column_per_exercise_that_adds_up(corpus):
    """One column per exercise, named with its points; the columns add up to the score; a failed row has none."""
    columns = {name: column(name, points) for name, points in EXERCISES.tests.values()}
    assert set(columns) == set(POINTS) and all(columns[n] == f"{n} ({POINTS[n]:g})" for n in POINTS)
    for (_, student), row in corpus["rows"].items():
        earned = [row[c] for c in columns.values()]
        if row["status"] == "failed":
            assert earned == [""] * len(earned), row
        else:
            assert sum(map(float, earned)) == float(row["score"]), row
            assert all(row[c] in ("0", f"{POINTS[n]:g}") for n, c in columns.items()), row
    wrong = corpus["rows"][(ASSIGNMENT, "wrong_answer")]
    assert [n for n, c in columns.items() if wrong[c] == "0"] == [GRAD_GID]


def test_the_students_files_are_unchanged(corpus):
    assert {**checksums(corpus["folder"]), **checksums(corpus["timed"])} == corpus["before"]


def test_nothing_was_written_outside_the_sandbox(corpus):
    for path in corpus["places"]["outside"]:
        assert not Path(path).exists(), f"a submission wrote {path}"
    book = ROOT / "gradebook.db"  # the tests record grades in gradebooks of their own, never the repository's
    assert (book.stat().st_mtime_ns if book.exists() else None) == corpus["repository_gradebook"]


def test_the_summary_counts_statuses_and_names_what_to_review(corpus):
    summary = (corpus["base"] / "reports" / ASSIGNMENT / "summary.txt").read_text()
    expected = {s: sum(v[0] == s for k, v in EXPECTED.items() if k not in TIME_LIMIT_CASES and k not in ZIPPED)
                for s in ("graded", "needs_review", "failed")}
    for status, n in expected.items():
        assert re.search(rf"^  {status} +{n}$", summary, re.M), summary
    assert "needs_review: fake_grade_cell: graded cell 'bonus'" in summary
    assert "failed: corrupt_json: the file is not valid JSON" in summary
    assert "isolation: limits, read-only filesystem" in summary, summary


def test_feedback_for_every_graded_student_without_hidden_tests_and_capped(corpus):
    reports = corpus["base"] / "reports" / ASSIGNMENT
    graded = {s for (_, s), r in corpus["rows"].items()
              if r["status"] != "failed" and s not in TIME_LIMIT_CASES and s not in ZIPPED}
    assert {p.stem for p in (reports / "feedback").glob("*.html")} == graded
    for page in (reports / "feedback").glob("*.html"):
        text = page.read_text()
        assert "hidden=True" not in text and not re.search(r"seed=10\d", text), page.name  # the hidden calls
        assert page.stat().st_size < 2_000_000, page.name
    printed = (reports / "feedback" / "prints_hidden_inputs.html").read_text()
    # what relu printed inside the test cells is dropped (the hidden case z = 0.75 among it); what it printed in
    # the experiments, which use the student's relu once it passes, is the student's own output and stays
    assert "INPUT 0.75" not in printed and "✓ relu: all" in printed
    assert "INPUT 0.75" in (reports / "graded" / "prints_hidden_inputs.ipynb").read_text()  # ... kept for instructors
    huge = (reports / "graded" / "huge_output.ipynb").stat().st_size
    assert huge < 2_000_000, f"the graded notebook of huge_output is {huge} bytes"
    graded = (reports / "graded" / "correct.ipynb").read_text()
    assert graded.count("hidden=True") == 8, "the instructor's graded notebook shows that the hidden tests ran"
    correct = (reports / "feedback" / "correct.html").read_text()
    assert "Score: 100.0 / 100.0" in correct and "✓ relu: all" in correct


def test_a_failing_hidden_test_shows_only_its_message_in_feedback(corpus):
    page = (corpus["base"] / "reports" / ASSIGNMENT / "feedback" / "delegates_directly.html").read_text()
    assert "the course&#39;s reference implementation" in page or "the course's reference implementation" in page
    assert "seed=104" not in page


def pages(corpus, folder: str = "reports") -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8")
            for p in (corpus["base"] / folder / ASSIGNMENT / "feedback").glob("*.html")}


def test_feedback_shows_nothing_of_the_grader_or_the_instructors_machine(corpus):
    """No path of the course, of Python or of the grader, no grader frame; the student's own frames and the
    one-line reason of an error in their cell, and of a cell stopped at its time limit."""
    private = [str(ROOT), sys.prefix, sys.base_prefix, "site-packages", "on_alarm", "kernel.py", "guard.py"]
    shown = {**pages(corpus), **{f"timed:{k}": v for k, v in pages(corpus, "timed-reports").items()}}
    assert len(shown) > 60
    for name, page in shown.items():
        if name not in ("reads_solutions", "writes_outside"):  # (their own code names such paths)
            assert not [p for p in private if p in page], (name, [p for p in private if p in page])
    broken = shown["error_at_import"]
    assert "RuntimeError: my notebook is broken" in broken and "Cell In[" in broken
    looped = shown["timed:loop_after_exercises"]
    assert "CellTimeout: the cell ran longer than its limit of 10.0 s and was stopped" in looped
    assert "while True" in looped  # the student's own frame
    # a loop inside a function that a check calls: the one-line reason names the function and its line
    stopped = re.search(r"CellTimeout: the cell ran longer than its limit of 10\.0 s and was stopped in (\w+) "
                        r"\(Cell In\[\d+\], line \d+\): an endless loop in (\w+)\?", shown["timed:loop_inside_exercise"])
    assert stopped and stopped.groups() == ("relu", "relu"), shown["timed:loop_inside_exercise"][:3000]


def test_feedback_names_tests_by_exercise_wraps_lines_and_shows_math_offline(corpus):
    correct = pages(corpus)["correct"]
    toc = re.findall(r'<li><a href="#test_(\w+)">Test of <code>(\w+)</code></a> \(Score: ([\d.]+) / ([\d.]+)\)',
                     correct)
    assert [(gid, name) for gid, name, *_ in toc] == [(n, n) for n in POINTS], toc
    assert all(float(got) == float(points) == POINTS[name] for _, name, got, points in toc)
    assert "white-space: pre-wrap" in correct
    assert correct.count("<math") > 20 and "<annotation encoding=\"application/x-tex\">" in correct
    for name, page in pages(corpus).items():
        assert not re.search(r"<script[^>]*src=", page) and "cdnjs" not in page and "MathJax" not in page, name


def test_feedback_is_never_blank(corpus):
    shown = pages(corpus)
    assert all(len(page) > 1000 for page in shown.values())
    assert f"data:image/png;base64,{PIXEL}" in shown["pasted_image"]
    graded = nbformat.read(corpus["base"] / "reports" / ASSIGNMENT / "graded" / "pasted_image.ipynb", 4)
    assert [c.attachments["image.png"]["image/png"] for c in graded.cells if c.get("attachments")] == [PIXEL]
    assert "image lost.png: not in the notebook" in shown["image_from_another_notebook"]
    plain = shown["unrenderable_output"]
    assert "Score: 100 / 100" in plain and "plain version" in plain
    assert all(f"<td>{name}</td><td>{POINTS[name]:g} / {POINTS[name]:g}</td>" in plain for name in POINTS)


def test_the_gradebook_and_nbgrader_export_hold_the_same_grades(corpus, tmp_path):
    """Read back with nbgrader's API: a score per test cell as in grades.csv; failed rows and the cells a
    needs_review row concerns are marked for manual grading.  `nbgrader export` lists the same scores."""
    from nbgrader.api import Gradebook
    db = f"sqlite:///{corpus['gradebook']}"
    with Gradebook(db, "nn-lm-course") as book:
        for (assignment, student), row in corpus["rows"].items():
            submission = book.find_submission(assignment, student)
            grades = {g.name: g for g in submission.notebooks[0].grades}
            assert set(grades) == set(EXERCISES.tests)
            if row["status"] == "failed":
                assert all(g.auto_score is None and g.needs_manual_grade for g in grades.values()), student
                continue
            assert submission.score == float(row["score"]), (student, submission.score, row)
            for gid, (name, points) in EXERCISES.tests.items():
                assert grades[gid].auto_score == float(row[column(name, points)]), (student, gid)
            flagged = [g for g in grades.values() if g.needs_manual_grade]
            assert bool(flagged) == (row["status"] == "needs_review"), (student, row["status"], flagged)
    course = tmp_path / "course"
    course.mkdir()
    result = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--db={db}",
                             "--CourseDirectory.course_id=nn-lm-course"], cwd=course, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        exported = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}
    for key, row in corpus["rows"].items():
        if row["status"] != "failed":
            assert float(exported[key]["score"]) == float(row["score"]), (key, exported[key], row)
            assert float(exported[key]["max_score"]) == float(row["max_score"])


def test_a_rerun_gives_the_same_grades(corpus, tmp_path):
    subset = tmp_path / "again"
    subset.mkdir()
    for student in ("correct", "wrong_answer", "numpy_monkeypatch", "corrupt_json", "delegates_directly"):
        (subset / f"{student}.ipynb").write_bytes((corpus["folder"] / f"{student}.ipynb").read_bytes())
    code, output, rows = grade_command(subset, tmp_path / "reports", "--no-feedback")
    assert code == 0, output
    for key, row in rows.items():
        assert row == corpus["rows"][key]


def test_nbgrader_tree_and_zip_layouts(tmp_path):
    solved, blank = versions()
    tree = tmp_path / "submitted"
    for student, nb in (("ada", solved), ("bob", blank)):
        target = tree / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:  # an LMS export: one top folder, <student>_<assignment> names
        z.writestr(f"course export/cy_{ASSIGNMENT}.ipynb", nbformat.writes(solved))
        z.writestr("course export/dee_02_backprop.ipynb", "not this assignment")
        z.writestr("../escape.ipynb", nbformat.writes(solved))
    for source, expected in ((tree, {"ada": "100", "bob": "0"}), (archive, {"cy": "100"})):
        code, output, rows = grade_command(source, tmp_path / f"reports-{source.stem}", "--no-feedback")
        assert code == 0, output
        assert {s: r["score"] for (_, s), r in rows.items()} == expected, output
    assert not (tmp_path / "escape.ipynb").exists()


def test_bad_arguments_are_named(tmp_path):
    code, output, _ = grade_command(tmp_path / "missing", tmp_path / "r")
    assert code != 0 and "SUBMISSIONS=" in output and "does not exist" in output
    code, output, _ = grade_command(tmp_path, tmp_path / "r", assignment="99_nothing")
    assert code != 0 and "ASSIGNMENT='99_nothing' is not one of" in output
    code, output, _ = grade_command(tmp_path, tmp_path / "r", "--jobs", "0")
    assert code == 2 and "--jobs must be a positive number; received 0" in output


def test_assignment_all_grades_each_assignment_from_one_folder(tmp_path):
    solved, _ = versions()
    folder = tmp_path / "lms"
    folder.mkdir()
    nbformat.write(solved, folder / f"ada_{ASSIGNMENT}.ipynb")
    backprop = nbformat.read(ROOT / "notebooks" / "02_backprop" / "02_backprop.ipynb", 4)
    nbformat.write(backprop, folder / "ada_02_backprop.ipynb")  # handed in untouched
    code, output, rows = grade_command(folder, tmp_path / "reports", "--no-feedback", assignment="all")
    assert code == 0, output
    assert {k: (r["score"], r["status"]) for k, r in rows.items()} == {
        (ASSIGNMENT, "ada"): ("100", "graded"), ("02_backprop", "ada"): ("0", "graded")}, output


def test_every_notebook_solved_blank_and_each_known_mistake(tmp_path):
    """make grade on every assignment: solved 100, blank 0, each mistake loses exactly its exercise."""
    from conftest import assignments
    from course import points_per_exercise
    from mistakes import MISTAKES
    folder, expected = tmp_path / "class", {}
    folder.mkdir()
    for assignment in assignments():
        release = nbformat.read(ROOT / "notebooks" / assignment / f"{assignment}.ipynb", 4)
        source = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
        points = points_per_exercise(release)
        versions = {"solved": (student_version(release, source), 100), "blank": (student_version(release, None), 0)}
        for name, (gid, wrong, _) in MISTAKES.get(assignment, {}).items():
            versions[name.replace("_", "-")] = (student_version(release, source, {gid: wrong}), 100 - points[gid])
        for name, (nb, score) in versions.items():
            nbformat.write(nb, folder / f"{name}_{assignment}.ipynb")
            expected[(assignment, name)] = (f"{score:g}", "graded", "")
    code, output, rows = grade_command(folder, tmp_path / "reports", "--no-feedback", assignment="all")
    assert code == 0, output
    assert {k: (r["score"], r["status"], r["detail"]) for k, r in rows.items()} == expected
