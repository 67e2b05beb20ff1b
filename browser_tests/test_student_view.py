"""A student's JupyterLab (`make lab`, Binder: through ./start) shows the notebooks, nbgrader's Validate
button and assignment list, and none of the instructor tools nbgrader installs; the instructor's
(`make lab-instructor`) shows them, so the check can fail."""
import json

import pytest

from .conftest import assignments
from .lab import JupyterLab, LabPage

INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                      "@jupyter/nbgrader:create-assignment"]
STUDENT_PLUGINS = ["@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:assignment-list"]
INSTRUCTOR_COMMANDS = ["nbgrader:open-formgrader", "nbgrader:open-course-list", "nbgrader:open-create-assignment"]

# What nbgrader put into the page: its plugins and commands, the side panels, the Nbgrader menu.
JS_VIEW = """() => {
  const app = window.jupyterapp;
  return {
    plugins: app.listPlugins().filter(p => p.startsWith('@jupyter/nbgrader')),
    commands: app.commands.listCommands().filter(c => c.startsWith('nbgrader:')),
    panels: ['left', 'right'].flatMap(area => Array.from(app.shell.widgets(area))
      .map(w => w.title.label || w.title.caption || w.id)),
    validateButtons: document.querySelectorAll('.jp-NotebookPanel-toolbar .validate-button').length,
  };
}"""


def look(page, notebook, screenshot):
    """Open a notebook in the lab page with the file browser and the right sidebar open and the
    Nbgrader menu pulled down; photograph it; put the page back; return what JS_VIEW sees."""
    opened = page.open(notebook)
    try:
        page.page.evaluate("() => { const s = window.jupyterapp.shell; s.expandLeft(); s.expandRight(); }")
        view = page.page.evaluate(JS_VIEW)
        menu = page.page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")
        view["menu"] = None
        if menu.count():
            menu.first.click()
            page.page.locator(".lm-Menu").first.wait_for()
            view["menu"] = [t.strip() for t in page.page.locator(".lm-Menu .lm-Menu-itemLabel").all_inner_texts()
                            if t.strip()]
        page.page.screenshot(path=str(screenshot))
        page.page.keyboard.press("Escape")
        return view
    finally:
        opened.close()
        page.collapse_sidebars()


@pytest.fixture(scope="module")
def first_notebook():
    name = assignments()[0]
    return f"student/{name}/{name}.ipynb"


def test_student_view_has_no_instructor_tools(lab, lab_page, first_notebook, screenshots):
    running = json.loads(lab.api("/api/kernels")[1])
    assert not running, f"{len(running)} kernels left running by the notebooks the tests closed"
    view = look(lab_page, first_notebook, screenshots / "student-view.png")
    assert not set(INSTRUCTOR_PLUGINS) & set(view["plugins"]), view
    assert not set(INSTRUCTOR_COMMANDS) & set(view["commands"]), view
    assert "Create Assignment" not in view["panels"], f"a Create Assignment panel in the student view: {view}"
    assert set(STUDENT_PLUGINS) <= set(view["plugins"]), view
    assert view["validateButtons"] >= 1, "no Validate button in the notebook's toolbar"
    assert view["menu"] in (None, ["Assignment List"]), f"the Nbgrader menu offers {view['menu']}"
    # the server side of the instructor tools is off too; Validate's is on
    assert lab.api("/formgrader")[0] == 404
    assert lab.api("/formgrader/api/courses")[0] == 404
    import nbgrader
    assert lab.api(f"/nbgrader_version?version={nbgrader.__version__}")[0] == 200


def test_instructor_view_has_them(lab_root, browser, first_notebook, screenshots):
    """The same check on `make lab-instructor`'s configuration finds them: it can fail."""
    with JupyterLab(lab_root, student=False) as instructor:
        page = LabPage(browser, instructor)
        try:
            view = look(page, first_notebook, screenshots / "instructor-view.png")
        finally:
            page.close()
        assert set(INSTRUCTOR_PLUGINS) <= set(view["plugins"]), view
        assert "Create Assignment" in view["panels"], view
        assert {"Formgrader", "Course List"} <= set(view["menu"] or []), view
        assert instructor.api("/formgrader")[0] == 200
