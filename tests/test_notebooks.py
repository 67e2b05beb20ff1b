"""The notebooks as committed: solutions run cleanly, nothing has outputs,
and notebooks/ is exactly what nbgrader generates from solutions/ now."""
import filecmp
import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT, assignments
from course import make_course, nbgrader, notebook_path

ALL = assignments()

#: what a notebook's text says of an experiment's printed figures, checked on every run of the solution:
#: assignment -> [(regex whose groups are numbers, test of those numbers, the claim)]
CLAIMS = {
    "02_backprop": [
        (r"sigmoid +\|\|dJ/dW\^1\|\| = (\S+) +\|\|dJ/dW\^20\|\| = (\S+)", lambda first, last: first < 1e-9 * last,
         "the sigmoid network's first layer gets a gradient about 10^12 times smaller than its last"),
        (r"sigmoid \+ residual +\|\|dJ/dW\^1\|\| = (\S+)", lambda first: 0.1 < first < 10,
         "in the residual network even the first layer gets a gradient of about 1"),
    ],
}


def test_every_assignment_has_a_student_version():
    assert ALL, "solutions/ holds no assignment"
    released = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir())
    assert released == ALL, f"notebooks/ holds {released}; solutions/ holds {ALL}"


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
@pytest.mark.parametrize("assignment", ALL)
def test_committed_without_outputs(folder, assignment):
    nb = json.loads(notebook_path(ROOT / folder, assignment).read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{folder}/{assignment}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("assignment", ALL)
def test_grade_ids_follow_the_convention(assignment):
    nb = nbformat.read(notebook_path(ROOT / "solutions", assignment), 4)
    meta = [c.metadata["nbgrader"] for c in nb.cells if "nbgrader" in c.metadata]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids)), f"duplicate grade_id in {assignment}: {ids}"
    answers = {m["grade_id"] for m in meta if m["solution"]}
    tests = {m["grade_id"] for m in meta if m["grade"]}
    assert tests == {f"test_{a}" for a in answers}, "every answer cell <name> needs exactly one test cell test_<name>"
    assert sum(m["points"] for m in meta if m["grade"]) == 100


@pytest.mark.parametrize("assignment", ALL)
def test_solution_runs_top_to_bottom_without_errors_or_stderr(assignment, tmp_path):
    path = notebook_path(ROOT / "solutions", assignment)
    nb = nbformat.read(path, 4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    stderr = [(i, o.text[:300]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"cells wrote to stderr (nbgrader would score a test cell 0): {stderr}"
    printed = "".join(o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs
                      if o.output_type == "stream")
    for pattern, holds, claim in CLAIMS.get(assignment, []):
        found = re.search(pattern, printed)
        assert found, f"{assignment} no longer prints what backs the claim: {claim} ({pattern!r})"
        assert holds(*map(float, found.groups())), f"{assignment} says {claim}, but it printed {found.group(0)!r}"


def test_notebooks_are_what_nbgrader_generates(tmp_path):
    course = make_course(tmp_path / "course")
    for assignment in ALL:
        nbgrader(course, "generate_assignment", assignment, "--force")
        generated = notebook_path(course / "notebooks", assignment)
        committed = notebook_path(ROOT / "notebooks", assignment)
        assert filecmp.cmp(generated, committed, shallow=False), (
            f"notebooks/{assignment} differs from what nbgrader generates from solutions/: run "
            f"`nbgrader generate_assignment {assignment} --force` at the repository root and commit the result")


@pytest.mark.parametrize("assignment", ALL)
def test_run_all_on_the_blank_notebook_reaches_the_last_cell(assignment):
    """A student who runs everything before writing any code sees every experiment and the progress
    table: each failing check stops only its own cell (the `raises-exception` tag, honoured by
    JupyterLab and nbclient), and no other cell raises."""
    path = notebook_path(ROOT / "notebooks", assignment)
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            assert "raises-exception" in cell.metadata.get("tags", []), f"test cell {cell.id} lacks the tag"
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    failing = [c.metadata.get("nbgrader", {}).get("grade_id", c.id) for c in nb.cells if c.cell_type == "code"
               and any(o.output_type == "error" for o in c.outputs)]
    tests = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert failing == tests, f"only the test cells may fail on a blank notebook; failing: {failing}"
    last = "".join(o.get("data", {}).get("text/html", "") + o.get("text", "") for o in nb.cells[-1].outputs)
    assert "0 of" in last and "exercises pass" in last, f"the progress table did not show: {last[:300]}"
