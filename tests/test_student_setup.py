"""What can be checked offline of the students' JupyterLab, Binder and the browser test's setup:
the files repo2docker reads are well-formed and name only the project's packages, ./start applies
the students' configuration (the one `make lab` and `make test-browser` use), that configuration
names nbgrader's real plugins and server extensions, the Binder badge is a template or a real
repository address, and the browser test fails, with the install command, when Chromium is missing."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

STUDENT = ROOT / "jupyter-config" / "student"
INSTRUCTOR_PLUGINS = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:create-assignment"}
STUDENT_PLUGINS = {"@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:assignment-list"}
INSTRUCTOR_SERVER = {"nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"}
STUDENT_SERVER = {"nbgrader.server_extensions.validate_assignment", "nbgrader.server_extensions.assignment_list"}
# The configuration files repo2docker looks for (its documentation, "Configuration files").
REPO2DOCKER_FILES = {"environment.yml", "requirements.txt", "Pipfile", "Pipfile.lock", "setup.py", "Project.toml",
                     "REQUIRE", "install.R", "DESCRIPTION", "apt.txt", "postBuild", "start", "runtime.txt",
                     "default.nix", "Dockerfile"}


def run_start(*command, **env):
    return subprocess.run([str(ROOT / "start"), *command], capture_output=True, text=True, check=True,
                          env={**os.environ, **env}).stdout


def test_repo2docker_sees_environment_yml_and_start_only():
    """No binder/ folder (it would hide the top-level files); Binder builds environment.yml (the same
    packages as pyproject.toml: test_environment.py) and runs start; nothing else steers the build."""
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    present = {name for name in REPO2DOCKER_FILES if (ROOT / name).exists()}
    assert present == {"environment.yml", "start"}, present
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert set(env) == {"name", "channels", "dependencies"}


def test_start_is_an_executable_bash_script_that_runs_its_command():
    start = ROOT / "start"
    assert os.access(start, os.X_OK), "repo2docker runs start only if it is executable"
    text = start.read_text()
    assert text.startswith("#!/bin/bash\n")
    assert text.rstrip().endswith('exec "$@"'), "start must end by running the command it is given"
    subprocess.run(["bash", "-n", str(start)], check=True)
    assert run_start("echo", "the server") == "the server\n"


def test_start_puts_the_student_configuration_first_on_the_config_path():
    code = "import os; print(os.environ['JUPYTER_CONFIG_PATH'])"
    assert run_start(sys.executable, "-c", code).strip() == str(STUDENT)
    kept = run_start(sys.executable, "-c", code, JUPYTER_CONFIG_PATH="/elsewhere").strip()
    assert kept == f"{STUDENT}{os.pathsep}/elsewhere"


def test_jupyter_reads_the_student_configuration_through_start():
    """Jupyter's own path resolution, run through start, finds the course's config folder."""
    code = "from jupyter_core.paths import jupyter_config_path; print('\\n'.join(jupyter_config_path()))"
    assert str(STUDENT) in run_start(sys.executable, "-c", code).splitlines()


def test_the_student_configuration_hides_exactly_the_instructor_tools():
    page = json.loads((STUDENT / "labconfig" / "page_config.json").read_text())
    assert set(page) == {"disabledExtensions"}
    assert page["disabledExtensions"] == dict.fromkeys(INSTRUCTOR_PLUGINS, True)
    server = json.loads((STUDENT / "jupyter_server_config.json").read_text())
    assert server == {"ServerApp": {"jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER, False)}}


def test_the_names_are_those_of_the_installed_nbgrader():
    """A renamed plugin or server extension in a new nbgrader would silently show the tools again."""
    prefix = Path(sys.prefix)
    bundle = "".join(p.read_text(errors="replace") for p in
                     (prefix / "share/jupyter/labextensions/@jupyter/nbgrader/static").glob("*.js"))
    for plugin in INSTRUCTOR_PLUGINS | STUDENT_PLUGINS:
        assert f'"{plugin}"' in bundle, f"nbgrader's lab extension has no plugin {plugin}"
    enabled = json.loads((prefix / "etc/jupyter/jupyter_server_config.d/nbgrader.json").read_text())
    assert set(enabled["ServerApp"]["jpserver_extensions"]) == INSTRUCTOR_SERVER | STUDENT_SERVER


def test_make_lab_and_the_browser_test_use_start():
    makefile = (ROOT / "Makefile").read_text()
    lab = re.search(r"^lab: .*\n\t(.*)$", makefile, re.M).group(1)
    assert "./start " in lab and "jupyter lab" in lab
    instructor = re.search(r"^lab-instructor: .*\n\t(.*)$", makefile, re.M).group(1)
    assert "start" not in instructor and "jupyter lab" in instructor
    assert re.search(r"^test-browser: .*\n\t.*pytest browser_tests$", makefile, re.M)
    driver = (ROOT / "browser_tests" / "lab.py").read_text()
    assert 'START = ROOT / "start"' in driver and "cmd = [str(START)] + cmd" in driver


def test_the_binder_badge_is_a_template_or_a_repository_address():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((https://mybinder\.org/v2/[^)]*)\)", readme)
    assert links, "README.md has no Binder link"
    for link in links:
        match = re.fullmatch(r"https://mybinder\.org/v2/gh/([\w.-]+)/([\w.-]+)/HEAD\?urlpath=lab/tree/notebooks", link)
        assert match, f"unexpected Binder link {link}"
        assert match.groups() == ("OWNER", "REPO") or "OWNER" not in link, link
    assert "OWNER/REPO" in readme and "fork" in readme.lower(), "README must say how to fill in the badge"


def test_ci_installs_chromium_and_runs_the_browser_test_after_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\nmake test-browser$", ci, re.M)
    assert "apt-get install -y -q chromium fonts-noto-cjk fonts-noto-color-emoji" in ci
    readme = (ROOT / "README.md").read_text()
    assert "make test-browser" in readme and "make lab-instructor" in readme


def test_the_browser_test_fails_and_says_how_to_install_chromium_when_it_is_missing(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pytest", "browser_tests", "-p", "no:cacheprovider"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "CHROMIUM": str(tmp_path / "no-chromium")})
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk fonts-noto-color-emoji" in out, out
    assert "skipped" not in out and " passed" not in out, out
