"""`make grade` on the adversarial corpus of 01_activations: every expected status, score and
detail; the students' files untouched; the same grades on a re-run; feedback without hidden
tests and with capped output; nothing written outside the sandbox; the other input layouts."""
from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from adversarial import CORPUS, TIME_LIMIT_CASES
from conftest import ROOT
from course import student_version

ASSIGNMENT = "01_activations"
# generous limits: an honest cell never comes near them, however busy the machine (the slowest honest test cell,
# 02's training check, takes about 1 s on an idle machine); the time limit itself is tested with cells that run
# forever, under SHORT_LIMIT, still about 20 times what the slowest honest cell of 01 takes
OPTIONS = ["--cell-timeout", "60", "--notebook-timeout", "300", "--memory-mb", "1024"]
SHORT_LIMIT = ["--cell-timeout", "10"]


def grade_command(submissions: Path, out: Path, *extra: str, assignment: str = ASSIGNMENT):
    """Run the grader as `make grade` does; returns (exit code, output, {student: row})."""
    result = subprocess.run([sys.executable, "-m", "grader", "--assignment", assignment,
                             "--submissions", str(submissions), "--out", str(out), *OPTIONS, *extra],
                            capture_output=True, text=True, timeout=900, cwd=ROOT)
    rows = {}
    for path in sorted(out.glob("*/grades.csv")):
        with open(path, newline="") as f:
            rows.update({(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)})
    return result.returncode, result.stdout + result.stderr, rows


def versions():
    release = nbformat.read(ROOT / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    return student_version(release, solution), student_version(release, None)


def checksums(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Write the corpus as two folders of <student>.ipynb files (the time-limit cases apart) and grade them."""
    base = tmp_path_factory.mktemp("corpus")
    folder, timed = base / "class", base / "timed"
    folder.mkdir()
    timed.mkdir()
    places = {"outside": [str(base / "outside.txt"), str(ROOT / "pwned.txt"), "/root/pwned.txt"],
              "solution": str(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")}
    solved, blank = versions()
    for student, (build, *_) in CORPUS.items():
        made = build(solved, blank, places)
        path = (timed if student in TIME_LIMIT_CASES else folder) / f"{student}.ipynb"
        path.write_bytes(made) if isinstance(made, bytes) else nbformat.write(made, path)
    before = {**checksums(folder), **checksums(timed)}
    code, output, rows = grade_command(folder, base / "reports")
    timed_code, timed_output, timed_rows = grade_command(timed, base / "timed-reports", *SHORT_LIMIT)
    return {"base": base, "folder": folder, "timed": timed, "before": before, "code": code + timed_code,
            "output": output + timed_output, "rows": {**rows, **timed_rows}, "places": places}


def test_the_command_succeeds_and_grades_everyone(corpus):
    assert corpus["code"] == 0, corpus["output"]
    assert {s for _, s in corpus["rows"]} == set(CORPUS), corpus["output"]


@pytest.mark.parametrize("student", list(CORPUS))
def test_each_submission_gets_its_expected_grade(corpus, student):
    _, status, score, detail = CORPUS[student]
    row = corpus["rows"][(ASSIGNMENT, student)]
    assert row["status"] == status, row
    assert row["score"] == ("" if score is None else f"{score:g}"), row
    assert row["max_score"] == "100", row
    assert re.search(detail, row["detail"]), row


def test_the_students_files_are_unchanged(corpus):
    assert {**checksums(corpus["folder"]), **checksums(corpus["timed"])} == corpus["before"]


def test_nothing_was_written_outside_the_sandbox(corpus):
    for path in corpus["places"]["outside"]:
        assert not Path(path).exists(), f"a submission wrote {path}"


def test_the_summary_counts_statuses_and_names_what_to_review(corpus):
    summary = (corpus["base"] / "reports" / ASSIGNMENT / "summary.txt").read_text()
    expected = {s: sum(v[1] == s for k, v in CORPUS.items() if k not in TIME_LIMIT_CASES)
                for s in ("graded", "needs_review", "failed")}
    for status, n in expected.items():
        assert re.search(rf"^  {status} +{n}$", summary, re.M), summary
    assert "needs_review: fake_grade_cell: graded cell 'bonus'" in summary
    assert "failed: corrupt_json: the file is not valid JSON" in summary
    assert "isolation: limits, read-only filesystem" in summary, summary


def test_feedback_for_every_graded_student_without_hidden_tests_and_capped(corpus):
    reports = corpus["base"] / "reports" / ASSIGNMENT
    graded = {s for (_, s), r in corpus["rows"].items() if r["status"] != "failed" and s not in TIME_LIMIT_CASES}
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
