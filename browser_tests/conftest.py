"""`make test-browser`: the course in JupyterLab, in the system's Chromium.

One JupyterLab server with the students' configuration serves a temporary folder holding, for each
assignment found in notebooks/ and solutions/, the student version as released (student/<name>/)
and the same notebook with every answer filled in from the solution (solved/<name>/).  Screenshots
go to $SCREENSHOTS, or a new temporary folder; its path is printed at the start and at the end:
<name>/student.png and <name>/solved.png (the whole notebook after Run All), student-view.png and
instructor-view.png (the lab around a notebook), breakage/*.png (the notebooks broken on purpose).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from .lab import INSTALL_PLAYWRIGHT, ROOT, ChromiumMissing, JupyterLab, LabPage, chromium, require_chromium

sys.path.insert(0, str(ROOT / "tests"))
from course import student_version  # noqa: E402  (the solved notebook, built as the grading tests build it)

VERSIONS = ("student", "solved")
_screenshots: Path | None = None  # set when the session starts


def assignments() -> list[str]:
    """Every assignment with a notebook in notebooks/ or solutions/ (a missing counterpart fails its tests)."""
    return sorted({p.parent.name for folder in ("notebooks", "solutions")
                   for p in (ROOT / folder).glob("*/*.ipynb") if p.stem == p.parent.name})


def pytest_sessionstart(session):
    """No Chromium or no Playwright: stop at once with the command that installs it (a failure,
    never a skip).  Otherwise make the screenshot folder and say where it is."""
    global _screenshots
    try:
        require_chromium()
        import playwright  # noqa: F401
    except ChromiumMissing as err:
        pytest.exit(str(err), returncode=1)
    except ImportError:
        pytest.exit(INSTALL_PLAYWRIGHT, returncode=1)
    folder = os.environ.get("SCREENSHOTS")
    _screenshots = Path(folder).resolve() if folder else Path(tempfile.mkdtemp(prefix="course-screenshots-"))
    _screenshots.mkdir(parents=True, exist_ok=True)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"screenshots: {_screenshots}")


def pytest_terminal_summary(terminalreporter):
    if _screenshots is not None:
        shots = sorted(_screenshots.rglob("*.png"))
        terminalreporter.write_line(f"screenshots: {len(shots)} in {_screenshots}")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder of the screenshots ($SCREENSHOTS, or a new temporary folder)."""
    return _screenshots


def build_root(root: Path) -> Path:
    """student/<name>/ and solved/<name>/ for every assignment (what exists of them)."""
    for name in assignments():
        release, source = ROOT / "notebooks" / name, ROOT / "solutions" / name
        if (release / f"{name}.ipynb").exists():
            shutil.copytree(release, root / "student" / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        if (release / f"{name}.ipynb").exists() and (source / f"{name}.ipynb").exists():
            shutil.copytree(release, root / "solved" / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            solved = student_version(nbformat.read(release / f"{name}.ipynb", 4),
                                     nbformat.read(source / f"{name}.ipynb", 4))
            nbformat.write(solved, root / "solved" / name / f"{name}.ipynb")
    return root


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory):
    return build_root(tmp_path_factory.mktemp("lab-root"))


@pytest.fixture(scope="session")
def lab(lab_root):
    with JupyterLab(lab_root) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    with chromium() as context:
        yield context


@pytest.fixture(scope="session")
def lab_page(lab, browser):
    page = LabPage(browser, lab)
    yield page
    page.close()


@dataclass
class Run:
    """Both versions of one assignment, open in the lab page after Run All."""
    name: str
    notebooks: dict
    states: dict


@pytest.fixture(scope="module", params=assignments())
def run(request, lab, lab_page, screenshots):
    """Open the student and the solved version of one assignment as two tabs, Run All in both at
    once (two kernels, two cores), then photograph each; both stay open (kernels running) for the
    tests of the assignment."""
    name = request.param
    missing = [v for v in VERSIONS if not (lab.root_dir / v / name / f"{name}.ipynb").exists()]
    if missing:
        pytest.fail(f"{name}: needs notebooks/{name}/{name}.ipynb and solutions/{name}/{name}.ipynb")
    notebooks, states = {}, {}
    try:
        for version in VERSIONS:
            notebooks[version] = lab_page.open(f"{version}/{name}/{name}.ipynb", wait=False)
        for notebook in notebooks.values():
            notebook.wait_ready()
        for notebook in notebooks.values():
            notebook.start_run_all()
        try:
            for notebook in notebooks.values():
                notebook.wait_run_all()
        finally:  # photographed even when Run All does not end, to show where it stands
            for version, notebook in notebooks.items():
                states[version] = notebook.settle()
                notebook.screenshot(screenshots / name / f"{version}.png")
        yield Run(name, notebooks, states)
    finally:
        for notebook in notebooks.values():
            notebook.close()
