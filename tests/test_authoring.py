"""docs/authoring.md, followed step by step in a throwaway copy of the course: adding the exercise
leaky_relu to 01_activations touches four files, `make test`'s exercise tests accept it, and the grader
grades it (solved 100, blank 0, a wrong leaky_relu loses exactly its points)."""
from __future__ import annotations

import csv
import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from course import student_version

A = "01_activations"
REFERENCE = '''

def leaky_relu(z, slope=0.01):
    """max(z, slope * z) elementwise (Maas et al. 2013).  z: any shape -> same shape."""
    z = as_float_array(z, "z", "leaky_relu")
    return np.where(z > 0, z, slope * z)
'''
CHECK = '''@exercise("01_activations", points=10, reference=ref.leaky_relu)
def check_leaky_relu(leaky_relu, seed: int = 0, hidden: bool = False) -> None:
    """leaky_relu(z) = max(z, 0.01 z) elementwise."""
    cases = _elementwise_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        if close(got[0], ref.relu(case.args[0])):
            return "negative entries must be scaled by the slope 0.01, not set to 0."

    run_check(leaky_relu, ref.leaky_relu, cases, name="leaky_relu", hints=(hint,))


'''
ANSWER = ('def leaky_relu(z):\n    """max(z, 0.01 z), elementwise."""\n    ### BEGIN SOLUTION\n'
          '    return np.where(z > 0, z, 0.01 * z)\n    ### END SOLUTION')
TEST = ("check_leaky_relu(leaky_relu)\n### BEGIN HIDDEN TESTS\ncheck_leaky_relu(leaky_relu, seed=109, hidden=True)\n"
        "### END HIDDEN TESTS")


def run(args, cwd, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the copy's helpers and grader, not the repository's
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def tracked_files(root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout.strip():
        return [f for f in listed.stdout.splitlines() if (root / f).is_file()]
    skip = {".git", ".venv", "reports", "__pycache__", ".pytest_cache"}  # not a git checkout
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not skip & set(p.parts)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def follow_the_guide(course: Path) -> None:
    """Steps 1 to 3 of docs/authoring.md, as an author would make them."""
    with open(course / "helpers" / "activations.py", "a", encoding="utf-8") as f:  # 1. the reference
        f.write(REFERENCE)
    checks = course / "helpers" / "checks" / "activations.py"  # 2. the check and its declaration
    edit(checks, '@exercise("01_activations", points=15, reference=ref.softmax)',
         CHECK + '@exercise("01_activations", points=5, reference=ref.softmax)')
    path = course / "solutions" / A / f"{A}.ipynb"  # 3. the solution notebook
    nb = nbformat.read(path, 4)
    meta = {"grade": False, "locked": False, "schema_version": 3, "solution": True, "task": False}
    cells = [nbformat.v4.new_markdown_cell("### Exercise 6 (10 points): `leaky_relu`\n"
                                           "A ReLU whose negative side keeps a slope of 0.01."),
             nbformat.v4.new_code_cell(ANSWER, metadata={"nbgrader": {**meta, "grade_id": "leaky_relu"}}),
             nbformat.v4.new_code_cell(TEST, metadata={"tags": ["raises-exception"], "nbgrader": {
                 **meta, "grade": True, "solution": False, "locked": True, "grade_id": "test_leaky_relu",
                 "points": 10}})]
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "test_relu_grad")
    nb.cells[at + 1:at + 1] = cells
    for cell in nb.cells[at + 4:]:
        if cell.cell_type == "markdown":  # later exercises are renumbered
            cell.source = re.sub(r"### Exercise (\d+) ", lambda m: f"### Exercise {int(m.group(1)) + 1} ", cell.source)
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_softmax":
            cell.metadata["nbgrader"]["points"] = 5
    for cell in nb.cells:
        cell.source = cell.source.replace("(15 points): `softmax`", "(5 points): `softmax`")
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "setup":
            cell.source = cell.source.replace("check_relu_grad,", "check_relu_grad, check_leaky_relu,")
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("authoring") / "course"
    for name in tracked_files(ROOT):
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, course / name)
    follow_the_guide(course)
    run([sys.executable, "-m", "nbgrader", "generate_assignment", A, "--force"], course)  # 4. make notebooks
    return course


def test_the_exercise_touches_four_files(course):
    changed = sorted(name for name in tracked_files(ROOT)
                     if not filecmp.cmp(ROOT / name, course / name, shallow=False))
    assert changed == ["helpers/activations.py", "helpers/checks/activations.py",
                       f"notebooks/{A}/{A}.ipynb", f"solutions/{A}/{A}.ipynb"]


def test_the_exercise_tests_accept_it(course):
    out = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_exercises.py"], course)
    assert " passed" in out.stdout and "failed" not in out.stdout
    # the tests of every registered exercise cover it without a line of test code: the reference passes with
    # five seeds, the hidden tests add cases, and the three usual non-answers get their messages
    out = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_checks_every_exercise.py",
               "-k", "leaky_relu"], course)
    assert re.search(r"\b9 passed", out.stdout) and "failed" not in out.stdout, out.stdout[-2000:]


def test_the_grader_grades_it(course, tmp_path):
    release = nbformat.read(course / "notebooks" / A / f"{A}.ipynb", 4)
    solution = nbformat.read(course / "solutions" / A / f"{A}.ipynb", 4)
    assert "check_leaky_relu(leaky_relu, seed=109" not in nbformat.writes(release), "hidden tests were released"
    folder = tmp_path / "class"
    folder.mkdir()
    for student, nb in (("solved", student_version(release, solution)), ("blank", student_version(release, None)),
                        ("relu_instead", student_version(release, solution, {
                            "leaky_relu": "def leaky_relu(z):\n    return np.maximum(z, 0.0)\n"}))):
        nbformat.write(nb, folder / f"{student}.ipynb")
    run([sys.executable, "-m", "grader", "--assignment", A, "--submissions", str(folder), "--out",
         str(tmp_path / "reports"), "--no-feedback", "--cell-timeout", "60"], course)
    with open(tmp_path / "reports" / A / "grades.csv", newline="") as f:
        rows = {r["student_id"]: (r["score"], r["max_score"], r["status"]) for r in csv.DictReader(f)}
    assert rows == {"solved": ("100", "100", "graded"), "blank": ("0", "100", "graded"),
                    "relu_instead": ("90", "100", "graded")}
