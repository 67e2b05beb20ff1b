"""The browser checks can fail: small notebooks broken on purpose (a widget that does not render, an
explorer that does not redraw or raises, a figure shown as text, stderr, a solution cell that raises,
checks with long tracebacks, a wrong progress table, no widget manager in the page) are caught, each
in its own cell, while the sound parts of the same notebooks are not reported."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .lab import JupyterLab, LabPage
from .problems import explorer_problems, solution_problems, student_problems

SETUP = """%matplotlib inline
import sys
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import HTML, display
from helpers.checks.framework import CheckFailure, use_short_tracebacks
use_short_tracebacks()

def draw(w=1.0):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, w])
    ax.set_ylim(-6, 6)
    plt.show()"""
ANSWER = "def double(x):\n    return 2 * x"
CHECK = 'assert double(2) == 4\nprint("✓ double: all 1 cases pass")'
FIGURE = "draw(2.0)"
EXPLORER = "widgets.interactive(draw, w=widgets.FloatSlider(value=1.0, min=-5, max=5, step=0.5, description='w'))"


def code(source, grade_id=None, answer=False, check=False):
    """A code cell; an nbgrader answer or check cell (with the raises-exception tag) if asked."""
    cell = new_code_cell(source)
    if answer or check:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": answer, "grade": check, "locked": check,
                                     "points": 1 if check else 0, "schema_version": 3}
    if check:
        cell.metadata["tags"] = ["raises-exception"]
    return cell


def progress(passing, total):
    return code(f'display(HTML("<b>demo: {passing} of {total} exercises pass</b>"))')


def notebook(*cells):
    nb = new_notebook(cells=[new_markdown_cell("# A notebook broken on purpose"), code(SETUP), *cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def solved(*extra):
    """A sound solved notebook (an exercise, its check, a figure, an explorer) with ``extra`` cells."""
    return notebook(code(ANSWER, "double", answer=True), code(CHECK, "test_double", check=True), code(FIGURE),
                    code(EXPLORER), *extra, progress(1, 1))


BROKEN_WIDGETS = solved(
    # an explorer that never redraws: its figure ignores the slider
    code("widgets.interactive(lambda w=1.0: draw(1.0), w=widgets.FloatSlider(value=1.0, min=-5, max=5, step=0.5))"),
    # an explorer that raises once the slider moves
    code("def fragile(w=1.0):\n    if w != 1.0:\n        raise ValueError('deliberate')\n    draw(w)\n"
         "widgets.interactive(fragile, w=widgets.FloatSlider(value=1.0, min=-5, max=5, step=0.5))"),
    # a widget whose model the kernel never created
    code('display({"application/vnd.jupyter.widget-view+json": {"model_id": "0123456789abcdef0123456789abcdef",'
         ' "version_major": 2, "version_minor": 0}, "text/plain": "FloatSlider(value=1.0)"}, raw=True)'),
    code('display({"text/plain": "<Figure size 640x480 with 1 Axes>"}, raw=True)'),
    code('print("deliberate warning", file=sys.stderr)'),
    # a sound explorer whose slider starts at its right end (the test drags it to the left)
    code("widgets.interactive(draw, w=widgets.FloatSlider(value=5.0, min=-5, max=5, step=0.5))"),
    # an explorer with no control to move
    code("widgets.interactive(lambda: draw(1.0))"),
    # an output the page does not draw (a script that throws: JupyterLab 4 shows no output for it)
    code('display({"application/javascript": "throw new Error(\'deliberate\')"}, raw=True)'),
)

RAISES = notebook(code(ANSWER, "double", answer=True), code(CHECK, "test_double", check=True),
                  code('raise RuntimeError("deliberate failure in a solution cell")'), code(FIGURE), progress(1, 1))

BLANK = notebook(
    code("def double(x):\n    raise NotImplementedError()", "double", answer=True),
    code("try:\n    double(2)\nexcept NotImplementedError:\n"
         "    raise CheckFailure('double is not implemented yet: write it, then run this check again') from None",
         "test_double", check=True),
    code("def triple(x):\n    raise NotImplementedError()", "triple", answer=True),
    code("assert triple(1) == 3", "test_triple", check=True),  # a bare assert: a long traceback
    code("def half(x):\n    raise NotImplementedError()", "half", answer=True),
    code("try:\n    half(2)\nexcept NotImplementedError as err:\n"
         "    raise CheckFailure('half is not implemented yet') from err", "test_half", check=True),
    progress(1, 3),  # says one passes: wrong on a blank notebook
)


@pytest.fixture(scope="module")
def broken(lab):
    """Write the notebooks into the lab's folder; the path of each by name."""
    paths = {}
    for name, nb in {"broken_widgets": BROKEN_WIDGETS, "raises": RAISES, "blank": BLANK, "sound": solved()}.items():
        path = lab.root_dir / "breakage" / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        nbformat.write(nb, path)
        paths[name] = f"breakage/{name}.ipynb"
    return paths


def ran(lab_page, path, screenshots, suffix=""):
    notebook = lab_page.open(path)
    state = notebook.run_all()
    notebook.screenshot(screenshots / "breakage" / (path.split("/")[-1].replace(".ipynb", "") + suffix + ".png"))
    return notebook, state


def show(problems) -> str:
    return "problems reported:\n  " + "\n  ".join(problems)


def about(problems, cell_index):
    return [p for p in problems if p.startswith(f"cell {cell_index} ")]


def test_broken_widgets_figures_and_stderr_are_caught(lab_page, broken, screenshots):
    notebook, state = ran(lab_page, broken["broken_widgets"], screenshots)
    try:
        problems = solution_problems(state, notebook.page_errors)
        # cells: 0 markdown, 1 setup, 2 answer, 3 check, 4 figure, 5 explorer, 6 frozen, 7 fragile,
        # 8 missing model, 9 figure as text, 10 stderr, 11 explorer at its end, 12 no control,
        # 13 an output not drawn, 14 progress
        assert any("a widget failed to render" in p for p in about(problems, 8)), show(problems)
        assert any("a figure shows as text" in p for p in about(problems, 9)), show(problems)
        assert any("writes to stderr" in p for p in about(problems, 10)), show(problems)
        assert any("the notebook holds 1 outputs, the page shows 0" in p for p in about(problems, 13)), show(problems)
        assert not [p for p in problems if not p.startswith(("cell 8 ", "cell 9 ", "cell 10 ", "cell 13 "))], show(problems)
        problems, done = explorer_problems(notebook, timeout=5)
        assert len(done) == 4, done
        assert not [p for p in problems if p.startswith(("explorer 1:", "explorer 4:"))], (problems, done)
        assert any(p.startswith("explorer 2:") and "did not change" in p for p in problems), (problems, done)
        assert any(p.startswith("explorer 3:") and "ValueError" in p for p in problems), (problems, done)
        assert any(p.startswith("explorer 5 ") and "knows how to move" in p for p in problems), (problems, done)
        assert "from 5.00 to " in done[3] and "to 5.00" not in done[3], done  # dragged back from its end
    finally:
        notebook.close()


def test_a_solution_cell_that_raises_is_caught(lab_page, broken, screenshots):
    notebook, state = ran(lab_page, broken["raises"], screenshots)
    notebook.close()
    problems = solution_problems(state)
    assert any("raises RuntimeError: deliberate failure" in p for p in about(problems, 4)), show(problems)
    assert any("Run All stopped before the end: code cells [5, 6]" in p for p in problems), show(problems)


def test_checks_with_tracebacks_and_a_wrong_progress_table_are_caught(lab_page, broken, screenshots):
    notebook, state = ran(lab_page, broken["blank"], screenshots)
    notebook.close()
    problems = student_problems(state)
    assert not about(problems, 3), problems  # the one-line CheckFailure is what every check must show
    assert any("expected the check to fail with one CheckFailure" in p for p in about(problems, 5)), show(problems)
    assert any("not its one-line message" in p for p in about(problems, 7)), show(problems)
    assert any("the progress table says 1 of 3" in p for p in problems), show(problems)


def test_widgets_shown_as_text_are_caught(lab_root, browser, broken, screenshots):
    """Without the widget manager in the page, JupyterLab shows a widget's text: caught."""
    with JupyterLab(lab_root, disabled_extensions=["@jupyter-widgets/jupyterlab-manager"]) as bare:
        page = LabPage(browser, bare)
        try:
            notebook, state = ran(page, broken["sound"], screenshots, "-without-widget-manager")
            notebook.close()
        finally:
            page.close()
    problems = solution_problems(state)
    assert any("a widget shows as text" in p and "interactive(" in p for p in about(problems, 5)), show(problems)
