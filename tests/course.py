"""Build temporary nbgrader courses from the repository, for the grading tests."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def make_course(path: Path) -> Path:
    """A fresh course in ``path``: the repository's solutions/ and nbgrader_config.py, nothing else."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "solutions", path / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", path / "nbgrader_config.py")
    return path


def nbgrader(course: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in ``course``; fail with nbgrader's output if it exits non-zero."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def notebook_path(base: Path, assignment: str) -> Path:
    return base / assignment / f"{assignment}.ipynb"


def answer_cells(nb) -> dict:
    """grade_id -> cell, for the answer (solution) cells of a notebook."""
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def points_per_exercise(nb) -> dict:
    """grade_id of each answer -> points of its test cell test_<grade_id>."""
    return {c.metadata["nbgrader"]["grade_id"][len("test_"):]: c.metadata["nbgrader"]["points"]
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def student_version(release_nb, solution_nb, replace: dict[str, str] | None = None):
    """The release notebook with every answer filled in from the solution, then ``replace``
    (grade_id -> source) applied; ``solution_nb=None`` leaves the answers blank."""
    nb = nbformat.from_dict(release_nb)
    answers = answer_cells(nb)
    if solution_nb is not None:
        for gid, cell in answer_cells(solution_nb).items():
            answers[gid].source = "\n".join(line for line in cell.source.splitlines()
                                             if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
    for gid, source in (replace or {}).items():
        answers[gid].source = source
    return nb


def submit(course: Path, student: str, assignment: str, nb) -> None:
    """Place ``nb`` as ``student``'s submission of ``assignment``."""
    target = notebook_path(course / "submitted" / student, assignment)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def grades(course: Path, assignment: str, student: str) -> tuple[float, dict]:
    """(total score, {grade_id: score}) of a graded submission, from the gradebook."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        notebook = submission.notebooks[0]
        return float(submission.score), {g.name: float(g.score) for g in notebook.grades}
