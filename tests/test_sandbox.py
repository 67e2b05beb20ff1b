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
    (flat / "deep" / "er").mkdir(parents=True)
    for name in ("ann lee", "ann_lee", "张三", "李四", "Jose\u0301"):
        notebook(flat / f"{name}.ipynb")
    notebook(flat / "alice_123" / "homework.ipynb")  # a folder per student, as some LMS export
    notebook(flat / "deep" / "er" / "homework.ipynb")  # a layout the command does not read
    found, problems = submissions.find(str(flat), ["01_activations"], str(tmp_path / "s"))
    assert sorted(found["01_activations"]) == sorted(["alice_123", "ann_lee", "ann_lee-2", "张三", "李四", "José"])
    assert any("graded as 'ann_lee-2'" in p for p in problems)
    assert any("er/homework.ipynb: not in a layout" in p for p in problems)


def test_student_ids_keep_names_as_written_in_composed_form():
    assert submissions.student_id("Jose\u0301") == "José" == submissions.student_id("José")
    assert submissions.student_id("张 伟") == "张_伟" and submissions.student_id("../..") == "unnamed"


def test_candidates_odd_names_and_files_handed_in(tmp_path):
    root = tmp_path / "submitted"
    folder = root / "ada" / "01_activations"
    (folder / "data").mkdir(parents=True)
    (folder / ".ipynb_checkpoints").mkdir()
    for name in ("01_activations.ipynb", "01_activations-Copy1.ipynb", "scratch.IPYNB", ".ipynb_checkpoints/x.ipynb"):
        notebook(folder / name)
    for name in ("mymath.py", "data/points.csv", "timestamp.txt", "mymath.pyc"):
        (folder / name).write_text("x")
    for name in ("bo.ipynb", "bo (1).ipynb", "bo copy.ipynb", "cy.ipynb.json", "dee.ipynb.txt", "notes.txt"):
        notebook(root / name) if "ipynb" in name else (root / name).write_text("x")
    found, problems = submissions.find(str(root), ["01_activations"], str(tmp_path / "s"), ["01_activations"])
    subs = found["01_activations"]
    assert problems == [] and sorted(subs) == ["ada", "bo", "cy", "dee"]
    assert sorted(os.path.basename(c) for c in subs["ada"].candidates) == [
        "01_activations-Copy1.ipynb", "01_activations.ipynb", "scratch.IPYNB"]
    assert [rel for rel, _ in subs["ada"].extras] == ["mymath.py", "data/points.csv"]  # nbgrader's ignore list
    assert sorted(os.path.basename(c) for c in subs["bo"].candidates) == ["bo (1).ipynb", "bo copy.ipynb", "bo.ipynb"]
    assert subs["bo"].extras == [] and subs["cy"].candidates[0].endswith("cy.ipynb.json")


def raw_member(raw: bytes, flag: bool = False, extra: bytes = b"") -> zipfile.ZipInfo:
    """A zip member's header as zipfile reads it: without the UTF-8 flag the name is decoded as CP437."""
    info = zipfile.ZipInfo(raw.decode("utf-8") if flag else raw.decode("cp437"))
    info.flag_bits, info.extra = (0x800 if flag else 0), extra
    return info


@pytest.mark.parametrize("name, raw, flag", [
    ("张伟.ipynb", "张伟.ipynb".encode(), False),  # zip -r on Linux: UTF-8 without the flag
    ("Zoë.ipynb", "Zoë.ipynb".encode(), True),  # with the flag
    ("李娜.ipynb", "李娜.ipynb".encode("gbk"), False),  # Windows with a Chinese locale
    ("Müller.ipynb", "Müller.ipynb".encode("cp437"), False),  # Windows with a Western locale
    ("plain.ipynb", b"plain.ipynb", False),
])
def test_zip_member_names_are_decoded_as_their_archiver_wrote_them(name, raw, flag):
    assert submissions.member_name(raw_member(raw, flag)) == (name, None)


def test_zip_unicode_path_field_and_undecodable_names():
    import zlib
    raw = "王芳.ipynb".encode("gbk")
    body = b"\x01" + zlib.crc32(raw).to_bytes(4, "little") + "王芳.ipynb".encode()
    field = (0x7075).to_bytes(2, "little") + len(body).to_bytes(2, "little") + body
    assert submissions.member_name(raw_member(raw, extra=field)) == ("王芳.ipynb", None)
    stale = field[:5] + bytes([field[5] ^ 1]) + field[6:]  # a field made for another name is not trusted
    assert submissions.member_name(raw_member(raw, extra=stale)) == ("王芳.ipynb", None)  # (GBK still recognised)
    name, problem = submissions.member_name(raw_member(b"\xff\xfe.ipynb"))
    assert name == "%FF%FE.ipynb" and "neither UTF-8, GBK nor CP437" in problem


def test_preflight_keeps_the_students_definitions_when_answer_cells_are_missing(tmp_path, release, source):
    nb = nbformat.from_dict(release)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    nb.cells = [c for c in nb.cells if c not in answers and c.metadata.get("nbgrader", {}).get("grade_id") !=
                "test_relu"]
    nbformat.write(nb, tmp_path / "sub.ipynb")
    prepared = preflight.prepare(str(tmp_path / "sub.ipynb"), release, source)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in prepared.nb.cells]
    assert not any(c.metadata.get("nbgrader", {}).get("solution") for c in prepared.nb.cells)  # no stub put back
    assert ids.index("test_relu") == ids.index("test_tanh_grad") + 1  # after the nearest cell that is there
    assert prepared.notes[-1].startswith("the answer cells of sigmoid, sigmoid_grad")


def test_preflight_runs_copies_and_keeps_attachments(tmp_path, release, source):
    nb = nbformat.from_dict(release)
    k = next(k for k, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "relu")
    nb.cells.insert(k, nbformat.from_dict(dict(nb.cells[k], id="relu-copy")))
    image = nbformat.v4.new_markdown_cell("![x](attachment:x.png)")
    image.attachments = {"x.png": {"image/png": "AAAA"}}
    nb.cells.insert(1, image)
    nbformat.write(nb, tmp_path / "sub.ipynb")
    prepared = preflight.prepare(str(tmp_path / "sub.ipynb"), release, source)
    relus = [c for c in prepared.nb.cells if "def relu(" in c.source]
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in relus] == [None, "relu"]  # the last one counts
    assert prepared.nb.cells[1].attachments == {"x.png": {"image/png": "AAAA"}}
    assert "grade_id 'relu' appears 2 times; the last copy was graded" in prepared.notes
