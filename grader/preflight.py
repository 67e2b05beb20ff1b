"""Checking a submission against the release before it runs, and building what will run.

``prepare(path, release, source)`` never raises on a bad submission: it returns a
``Prepared`` whose ``failure`` says why the file cannot be graded (corrupt
JSON, not nbformat 4, too large, not this assignment), or the notebook to run,
with:

* locked cells and test cells taken from the instructor's ``source`` notebook
  (solutions/), so that the hidden tests run; an edited or deleted test cell
  is put back, and the release's points are used;
* answer cells taken from the student, with the release's metadata;
* the student's own extra cells kept, in their order;
* ``notes`` for what was repaired (and is harmless) and ``review`` for what an
  instructor should look at (a graded cell the release does not have, such as
  a fake test cell worth 100 points).
"""
from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field

import nbformat

MAX_FILE_BYTES = 100 << 20
KEEP_OUTPUT_BYTES = 1 << 20
_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


@dataclass
class Prepared:
    """A submission ready to run, or the reason it cannot be graded."""

    nb: object = None
    cells: list = field(default_factory=list)  # what the kernel runs: index, kind, source, grade_id
    notes: list = field(default_factory=list)
    review: list = field(default_factory=list)
    failure: str | None = None


def _kind(meta: dict) -> str:
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    return "locked"


def _output_bytes(cell) -> int:
    return len(json.dumps(cell.get("outputs", []))) if cell.get("cell_type") == "code" else 0


def load(path: str) -> tuple[object, str | None]:
    """(notebook dict, None) or (None, why it cannot be read)."""
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        return None, f"the file is {size / 2**20:.0f} MB, more than the {MAX_FILE_BYTES >> 20} MB limit"
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError as err:
        return None, f"the file is not UTF-8 text ({err.reason} at byte {err.start})"
    except json.JSONDecodeError as err:
        return None, f"the file is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "the file is JSON but not a notebook (no list of cells)"
    if data.get("nbformat") != 4:
        return None, f"the notebook has nbformat {data.get('nbformat')!r}; expected 4 (save it with Jupyter 4+)"
    for i, cell in enumerate(data["cells"]):
        if not _well_formed(cell):
            return None, f"cell {i} of the notebook is malformed"
    return data, None


def _well_formed(cell) -> bool:
    """A cell of a known type, with text source and, if any, dict metadata and a text grade_id."""
    if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
        return False
    source, meta = cell.get("source", ""), cell.get("metadata", {})
    if not (isinstance(source, str) or isinstance(source, list) and all(isinstance(x, str) for x in source)):
        return False
    if not isinstance(meta, dict) or not isinstance(meta.get("nbgrader", {}), dict):
        return False
    return isinstance(meta.get("nbgrader", {}).get("grade_id", ""), (str, type(None)))


def graded_sources(source) -> dict[str, str]:
    """grade_id -> source of the test and locked cells of the instructor's notebook (hidden tests included)."""
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
            if c.metadata.get("nbgrader", {}).get("grade_id") and _kind(c.metadata["nbgrader"]) != "answer"}


def prepare(path: str, release, source) -> Prepared:
    """Check the submission at ``path`` against the ``release`` notebook; test and locked cells come
    from the instructor's ``source`` notebook (see the module docstring)."""
    try:
        return _prepare(path, release, graded_sources(source))
    except Exception as err:  # a notebook shaped in a way nothing above expected: fail this one only
        return Prepared(failure=f"the notebook could not be read: {type(err).__name__}: {err}")


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _prepare(path: str, release, tests: dict[str, str]) -> Prepared:
    data, failure = load(path)
    if failure:
        return Prepared(failure=failure)
    out = Prepared()
    rel_cells = {_nbgrader(c)["grade_id"]: c for c in release.cells if _nbgrader(c).get("grade_id")}
    positions: dict[str, list[int]] = {}
    for i, cell in enumerate(data["cells"]):
        positions.setdefault(_nbgrader(cell).get("grade_id"), []).append(i)
        if _output_bytes(cell) > KEEP_OUTPUT_BYTES:
            out.notes.append(f"cell {i} carried {_output_bytes(cell) / 2**20:.1f} MB of output, too large to keep; "
                             "outputs are cleared before grading")
    graded = [g for g, c in rel_cells.items() if _kind(_nbgrader(c)) != "locked"]
    if graded and not any(g in positions for g in graded):
        return Prepared(failure=f"none of the release's {len(graded)} test and answer cells are in this notebook: "
                                "is it the right assignment?")
    cells = []
    for i, raw in enumerate(data["cells"]):
        nbg = _nbgrader(raw)
        gid = nbg.get("grade_id")
        source = "".join(raw.get("source", ""))
        if gid not in rel_cells:
            if nbg.get("grade") or nbg.get("points"):
                out.review.append(f"graded cell {gid!r} ({nbg.get('points', 0)} points) is not in the release; "
                                  "it was ignored")
            elif gid is not None:
                out.notes.append(f"cell {i} has grade_id {gid!r}, which the release does not have; it ran as a "
                                 "plain cell")
            cells.append(_plain(raw, source))
            continue
        ref = rel_cells[gid]
        kind = _kind(_nbgrader(ref))
        copies = positions[gid]
        if len(copies) > 1 and i != copies[-1]:
            if i == copies[0]:
                out.notes.append(f"grade_id {gid!r} appears {len(copies)} times; the last copy was graded")
            if kind == "answer":
                cells.append(_plain(raw, source))
            continue
        cell = copy.deepcopy(ref)
        if kind == "answer":
            cell.source = source
        else:
            if source.strip() != ref.source.strip():
                out.notes.append(f"{kind} cell {gid!r} was edited; the release version was graded")
            cell.source = tests.get(gid, ref.source)
        cells.append(cell)
    _restore_missing(cells, release, tests, positions, out)
    out.nb = _notebook(release, cells)
    out.cells = [{"index": k, "kind": _kind(_nbgrader(c)) if _nbgrader(c).get("grade_id") in rel_cells else "code",
                  "source": c.source, "grade_id": _nbgrader(c).get("grade_id"),
                  "release_source": rel_cells.get(_nbgrader(c).get("grade_id"), c).source}
                 for k, c in enumerate(out.nb.cells) if c.cell_type == "code"]
    return out


def _notebook(release, cells: list):
    """The release's notebook metadata with ``cells``: outputs cleared, cell ids unique and valid."""
    nb = copy.deepcopy(release)
    nb.cells = cells
    used = set()
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if not _ID.fullmatch(str(cell.get("id", ""))) or cell.id in used:
            cell.id = f"cell-{k}"
        used.add(cell.id)
    return nb


def _plain(raw: dict, source: str):
    """A student's own cell, without nbgrader metadata (it runs but is not graded)."""
    meta = {k: v for k, v in raw.get("metadata", {}).items() if k != "nbgrader"}
    new = {"code": nbformat.v4.new_code_cell, "raw": nbformat.v4.new_raw_cell}.get(
        raw.get("cell_type"), nbformat.v4.new_markdown_cell)
    cell = new(source, metadata=meta)
    cell.id = str(raw.get("id", ""))
    return cell


def _restore_missing(cells: list, release, tests: dict, positions: dict, out: Prepared) -> None:
    """Put back every release cell with a grade_id that the student deleted, after its predecessor."""
    previous = None
    for ref in release.cells:
        gid = ref.metadata.get("nbgrader", {}).get("grade_id")
        if not gid:
            continue
        if gid not in positions:
            at = 0
            if previous is not None:
                at = next((k + 1 for k, c in enumerate(cells)
                           if c.metadata.get("nbgrader", {}).get("grade_id") == previous), len(cells))
            restored = copy.deepcopy(ref)
            restored.source = tests.get(gid, ref.source)
            cells.insert(at, restored)
            kind = _kind(ref.metadata["nbgrader"])
            out.notes.append(f"{kind} cell {gid!r} was missing and was put back from the release"
                             + (" (unanswered)" if kind == "answer" else ""))
        previous = gid
