"""grader.sandbox: whatever isolation ``enter`` reports actually holds (tried from a forked
process), and as root all of it is reported; the submission finders and the preflight."""
from __future__ import annotations

import json
import os
import socket
import sys
import zipfile

import nbformat
import pytest
from conftest import ROOT

from grader import preflight, sandbox, submissions

SECRET = ROOT / "solutions"


def probe(tmp_path) -> dict:
    """Enter the sandbox in a forked process and try what a hostile submission would."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        result = {}
        try:
            result["holds"] = sandbox.enter(memory_bytes=4 << 30, cpu_seconds=60, hide=[str(SECRET)],
                                            expose=[sys.base_prefix, sys.prefix, str(ROOT),
                                                    *[p for p in sys.path if p]],
                                            uid=2_000_123)
            attempts = {"repo": ROOT / "sandbox-probe.txt", "outside_tmp": tmp_path / "probe.txt"}
            for name, path in attempts.items():
                try:
                    path.write_text("x")
                    result[f"wrote_{name}"] = True
                except OSError:
                    result[f"wrote_{name}"] = False
            result["workdir_writable"] = os.access("/tmp/work", os.W_OK)
            result["solutions_listed"] = sorted(os.listdir(SECRET))
            try:
                socket.create_connection(("192.0.2.1", 80), timeout=1)
                result["network"] = True
            except OSError as err:
                result["network"] = str(err)
            try:
                os.kill(os.getppid(), 0)
                result["signal_parent"] = True
            except OSError:
                result["signal_parent"] = False
            import fractions  # noqa: F401  (a standard module not imported before: Python is reachable)
            result["imports"] = True
        except BaseException as err:  # report, never continue the test run in the fork
            result["error"] = repr(err)
        finally:
            os.write(write, json.dumps(result).encode())
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.waitpid(pid, 0)
    os.close(read)
    return json.loads(data)


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory):
    result = probe(tmp_path_factory.mktemp("sandbox"))
    assert "error" not in result, result
    return result


def test_every_reported_protection_holds(sandboxed, tmp_path):
    holds = sandboxed["holds"]
    assert sandboxed["imports"] and "limits" in holds
    if "read-only filesystem" in holds:
        assert not sandboxed["wrote_repo"] and not (ROOT / "sandbox-probe.txt").exists()
    if "private /tmp" in holds:
        assert sandboxed["workdir_writable"] and not (tmp_path / "probe.txt").exists()
    if "hidden solutions" in holds:
        assert sandboxed["solutions_listed"] == []
    if "no network" in holds:
        assert sandboxed["network"] is not True
    if os.getuid() == 0:  # root: every protection is available on Linux, and the parent is out of reach
        assert holds == ["limits", "read-only filesystem", "private /tmp", "hidden solutions", "no network",
                         "unprivileged user", "no new privileges"]
        assert sandboxed["signal_parent"] is False


def test_private_ancestor_finds_the_first_closed_folder(tmp_path):
    closed = tmp_path / "home"
    (closed / "py" / "lib").mkdir(parents=True)
    closed.chmod(0o700)
    above = sandbox._private_ancestor(str(tmp_path))  # pytest's own folder may be private already
    try:
        assert sandbox._private_ancestor(str(closed / "py" / "lib")) == (above or str(closed))
        closed.chmod(0o755)
        assert sandbox._private_ancestor(str(closed / "py" / "lib")) == above
    finally:
        closed.chmod(0o755)


def notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("x = 1"))
    nbformat.write(nb, path)


def test_find_reads_the_three_layouts(tmp_path):
    tree = tmp_path / "submitted"
    (tree / "ada" / "01_activations").mkdir(parents=True)
    notebook(tree / "ada" / "01_activations" / "01_activations.ipynb")
    (tree / "bo b" / "01_activations").mkdir(parents=True)
    notebook(tree / "bo b" / "01_activations" / "renamed.ipynb")
    found, problems = submissions.find(str(tree), ["01_activations"], str(tmp_path / "s1"))
    assert sorted(found["01_activations"]) == ["ada", "bo_b"] and problems == []

    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("cy_01_activations", "cy_02_backprop", "dee_02_backprop", "loose"):
        notebook(flat / f"{name}.ipynb")
    known = ["01_activations", "02_backprop"]
    found, problems = submissions.find(str(flat), known, str(tmp_path / "s2"), known)
    assert {a: sorted(s) for a, s in found.items()} == {"01_activations": ["cy"], "02_backprop": ["cy", "dee"]}
    assert any("loose.ipynb: cannot tell the assignment" in p for p in problems)
    found, problems = submissions.find(str(flat), ["01_activations"], str(tmp_path / "s3"), known)
    assert sorted(found["01_activations"]) == ["cy", "loose"]  # another assignment's files are not taken ...
    assert problems == []  # ... nor reported as unreadable

    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Export/eve.ipynb", nbformat.writes(nbformat.v4.new_notebook()))
        z.writestr("../../evil.ipynb", "{}")
        z.writestr("__MACOSX/Export/._eve.ipynb", "junk")
    found, problems = submissions.find(str(archive), ["01_activations"], str(tmp_path / "s4"))
    assert sorted(found["01_activations"]) == ["eve"]
    assert any("unsafe path" in p for p in problems) and not (tmp_path / "evil.ipynb").exists()


def test_find_names_a_bad_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="SUBMISSIONS=.*does not exist"):
        submissions.find(str(tmp_path / "nope"), ["01_activations"], str(tmp_path))
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="is a file but not a zip"):
        submissions.find(str(tmp_path / "file.txt"), ["01_activations"], str(tmp_path))


@pytest.fixture(scope="module")
def release():
    return nbformat.read(ROOT / "notebooks" / "01_activations" / "01_activations.ipynb", 4)


@pytest.fixture(scope="module")
def source():
    return nbformat.read(ROOT / "solutions" / "01_activations" / "01_activations.ipynb", 4)


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe not utf-8", "not UTF-8"),
    (b'{"cells": [', "not valid JSON (line 1, column"),
    (b'[1, 2]', "JSON but not a notebook"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code"}, 5]}).encode(), "cell 1 of the notebook is malformed"),
    (json.dumps({"nbformat": 5, "cells": []}).encode(), "nbformat 5; expected 4"),
])
def test_preflight_names_what_is_wrong_with_a_file(tmp_path, release, source, content, message):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    prepared = preflight.prepare(str(path), release, source)
    assert prepared.failure and message in prepared.failure, prepared.failure


def test_preflight_recognises_another_assignment(tmp_path, release, source):
    other = nbformat.read(ROOT / "notebooks" / "02_backprop" / "02_backprop.ipynb", 4)
    nbformat.write(other, tmp_path / "other.ipynb")
    prepared = preflight.prepare(str(tmp_path / "other.ipynb"), release, source)
    assert "is it the right assignment?" in prepared.failure


def test_preflight_runs_the_hidden_tests_with_the_release_points(tmp_path, release, source):
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_relu":
            meta["points"] = 1000
            cell.source = "pass"
        if meta.get("grade_id") == "relu":
            cell.source = "def relu(z):\n    return z"
    nbformat.write(nb, tmp_path / "sub.ipynb")
    prepared = preflight.prepare(str(tmp_path / "sub.ipynb"), release, source)
    cells = {c["grade_id"]: c for c in prepared.cells}
    originals = {c.metadata["nbgrader"]["grade_id"]: c for c in release.cells if c.metadata.get("nbgrader")}
    hidden = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata.get("nbgrader")}
    assert cells["test_relu"]["source"] == hidden["test_relu"] and "hidden=True" in hidden["test_relu"]
    assert cells["relu"]["source"] == "def relu(z):\n    return z"
    graded = [c for c in prepared.nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_relu"]
    assert graded[0].metadata["nbgrader"]["points"] == originals["test_relu"].metadata["nbgrader"]["points"]
    assert prepared.notes == ["test cell 'test_relu' was edited; the release version was graded"]


def test_every_student_gets_an_id_and_unread_files_are_named(tmp_path):
    flat = tmp_path / "flat"
    (flat / "alice_123").mkdir(parents=True)
    for name in ("ann lee", "ann_lee", "张三", "李四"):
        notebook(flat / f"{name}.ipynb")
    notebook(flat / "alice_123" / "homework.ipynb")  # a layout the command does not read
    found, problems = submissions.find(str(flat), ["01_activations"], str(tmp_path / "s"))
    assert sorted(found["01_activations"]) == ["ann_lee", "ann_lee-2", "张三", "李四"]
    assert any("graded as 'ann_lee-2'" in p for p in problems)
    assert any("homework.ipynb: not in a layout" in p for p in problems)
