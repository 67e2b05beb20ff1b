"""The nbgrader round trip on a temporary course, for every assignment:
solved scores full marks, blank scores 0, a wrong exercise loses only its points,
and feedback shows no hidden test."""
import nbformat
import pytest

from conftest import assignments
from course import grades, make_course, nbgrader, notebook_path, student_version, submit, points_per_exercise
from mistakes import MISTAKES

ALL = assignments()


@pytest.fixture(scope="module", params=ALL)
def graded(request, tmp_path_factory):
    """Generate, submit (solved, blank, one per known mistake), autograde and generate feedback."""
    assignment = request.param
    course = make_course(tmp_path_factory.mktemp(assignment))
    nbgrader(course, "generate_assignment", assignment, "--force")
    release = nbformat.read(notebook_path(course / "notebooks", assignment), 4)
    solution = nbformat.read(notebook_path(course / "solutions", assignment), 4)
    submit(course, "solved", assignment, student_version(release, solution))
    submit(course, "blank", assignment, student_version(release, None))
    for name, (gid, source, _) in MISTAKES.get(assignment, {}).items():
        submit(course, name, assignment, student_version(release, solution, {gid: source}))
    nbgrader(course, "autograde", assignment)
    nbgrader(course, "generate_feedback", assignment)
    return assignment, course, points_per_exercise(release)


def test_solution_scores_full_marks(graded):
    assignment, course, points = graded
    score, cells = grades(course, assignment, "solved")
    assert score == 100 == sum(points.values()), f"solved {assignment} scored {score}: {cells}"


def test_blank_scores_zero(graded):
    assignment, course, _ = graded
    score, cells = grades(course, assignment, "blank")
    assert score == 0, f"the untouched {assignment} scored {score}: {cells}"
    autograded = nbformat.read(notebook_path(course / "autograded" / "blank", assignment), 4)
    errors = [o for c in autograded.cells if c.metadata.get("nbgrader", {}).get("grade")
              for o in c.outputs if o.output_type == "error"]
    assert len(errors) == len(cells), "every test cell of the blank notebook must fail with an error"
    for error in errors:  # the student sees what to do, not the checker's internals
        text = "\n".join(error["traceback"])
        assert "not implemented yet" in text and "framework.py" not in text, text
    assert (course / "feedback" / "blank" / assignment / f"{assignment}.html").exists()


def test_a_wrong_exercise_loses_only_its_points(graded):
    assignment, course, points = graded
    assert MISTAKES.get(assignment), f"tests/mistakes.py has no wrong answer for {assignment}"
    for name, (gid, _, _) in MISTAKES[assignment].items():
        score, cells = grades(course, assignment, name)
        assert cells[f"test_{gid}"] == 0, f"{name}: the wrong {gid} still scored {cells[f'test_{gid}']}"
        assert score == 100 - points[gid], f"{name}: expected {100 - points[gid]}, got {score}: {cells}"


def test_feedback_contains_no_hidden_tests(graded):
    assignment, course, _ = graded
    solution = nbformat.read(notebook_path(course / "solutions", assignment), 4)
    hidden_lines = {line.strip() for c in solution.cells for line in _hidden_region(c.source)}
    assert hidden_lines
    for html in (course / "feedback").glob(f"*/{assignment}/*.html"):
        text = html.read_text()
        assert "HIDDEN TESTS" not in text, f"{html} shows a hidden-test marker"
        leaked = [line for line in hidden_lines if line in text]
        assert not leaked, f"{html} shows hidden-test code: {leaked}"


def test_hidden_only_mistakes_pass_the_visible_check(graded):
    """A mistake the visible check cannot see is caught by the hidden tests, and the feedback
    still shows the check's message (what is wrong) but not the hidden code."""
    assignment, course, _ = graded
    for name, (gid, _, shown) in MISTAKES.get(assignment, {}).items():
        autograded = nbformat.read(notebook_path(course / "autograded" / name, assignment), 4)
        cell = next(c for c in autograded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"test_{gid}")
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors, f"{name}: test_{gid} raised no error"
        assert (f"✓ {gid}" in printed) == (not shown), f"{name}: visible check output was {printed!r}"
        feedback = (course / "feedback" / name / assignment / f"{assignment}.html").read_text()
        assert errors[0]["evalue"].splitlines()[0][:40] in feedback.replace("&#39;", "'").replace("&quot;", '"')


def _hidden_region(source):
    inside = False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif inside and line.strip():
            yield line
