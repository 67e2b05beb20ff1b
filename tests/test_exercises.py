"""The exercise declarations (@exercise above each check, helpers/checks/exercises.py) against the solution notebooks, for every assignment:
the same exercises in the same order, the same points in the nbgrader metadata and in the headings, a check
and a reference for each, and the reference passes its visible check and every hidden call the notebook
makes (read from the notebook, so the seeds live in one place)."""
import re

import nbformat
import pytest

from conftest import ROOT, assignments
from course import notebook_path
from helpers.checks import EXERCISES, framework
from helpers.checks.exercises import reference_modules

ALL = assignments()


def solution(assignment):
    return nbformat.read(notebook_path(ROOT / "solutions", assignment), 4)


def test_every_assignment_is_registered_and_every_registered_assignment_exists():
    assert sorted(EXERCISES) == ALL


@pytest.mark.parametrize("assignment", ALL)
def test_registry_lists_the_notebooks_exercises_in_its_order_with_its_points(assignment):
    nb = solution(assignment)
    answers = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    points = {c.metadata["nbgrader"]["grade_id"][len("test_"):]: c.metadata["nbgrader"]["points"]
              for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    registered = EXERCISES[assignment]
    assert list(registered) == answers, ("the checks must be declared in the order of the notebook's answer cells "
                                        "(modules of helpers.checks in alphabetical order)")
    assert {name: e.points for name, e in registered.items()} == points
    assert sum(points.values()) == 100
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for name, p in points.items():
        assert f"({p} points): `{name}`" in text, f"the heading of {name} must say ({p} points): `{name}`"


def test_each_exercise_has_its_check_exported_and_its_reference_in_its_module():
    import helpers.checks as checks
    for exercises in EXERCISES.values():
        for name, e in exercises.items():
            assert getattr(checks, f"check_{name}") is e.check and f"check_{name}" in checks.__all__
            assert e.reference.__module__ == f"helpers.{e.module}" and e.reference.__name__ == name
    assert framework.REFERENCE_MODULES == reference_modules() != ()


def hidden_calls(assignment):
    """(exercise, source of the test cell with its hidden region) for every test cell of the solution."""
    for cell in solution(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            yield meta["grade_id"][len("test_"):], cell.source


@pytest.mark.usefixtures("without_delegation_check")  # the reference is handed in as the answer
@pytest.mark.parametrize("assignment", ALL)
def test_the_reference_passes_every_test_cell_of_the_solution(assignment, capfd):
    """Each test cell, hidden tests included, run as written with the reference in place of the answer."""
    for name, source in hidden_calls(assignment):
        e = EXERCISES[assignment][name]
        assert re.search(rf"check_{name}\({name}, seed=\d+, hidden=True\)", source), f"test_{name} has no hidden call"
        exec(source, {name: e.reference, f"check_{name}": e.check})
        out, err = capfd.readouterr()
        assert err == ""
        assert [line.split(":")[0] for line in out.splitlines()] == [f"✓ {name}"] * 2, out
