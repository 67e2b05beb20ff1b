"""Every notebook as students meet it: Run All in JupyterLab, the explorers, nbgrader's Validate."""
from .problems import (explorer_problems, solution_problems, student_problems, graded_cells,
                       validation_problems)


def report(problems, title):
    return f"{title}:\n  " + "\n  ".join(problems)


def test_student_version_run_all(run):
    """Each check stops at its one-line message, everything renders, the table shows 0 passing."""
    problems = student_problems(run.states["student"], run.notebooks["student"].page_errors)
    assert not problems, report(problems, f"{run.name}, student version after Run All")


def test_solution_run_all(run):
    """No error and no stderr anywhere, every figure an image, every check passes."""
    problems = solution_problems(run.states["solved"], run.notebooks["solved"].page_errors)
    assert not problems, report(problems, f"{run.name}, solved after Run All")


def test_solution_explorers_respond(run):
    """Moving a slider (or choosing another value) of each explorer redraws its figure."""
    problems, done = explorer_problems(run.notebooks["solved"])
    assert not problems, report(problems + done, f"{run.name}, explorers")


def test_validate_button_on_the_solution(run):
    problems = validation_problems(run.notebooks["solved"].validate(), failing_tests=0)
    assert not problems, report(problems, f"{run.name}, Validate on the solved notebook")


def test_validate_button_on_the_blank_notebook(run):
    problems = validation_problems(run.notebooks["student"].validate(),
                                   failing_tests=len(graded_cells(run.states["student"])))
    assert not problems, report(problems, f"{run.name}, Validate on the blank notebook")
