"""Checking a submission against the release before it runs, and building what will run.

``prepare(path, release, source)`` never raises on a bad submission: it returns a
``Prepared`` whose ``failure`` says why the file cannot be graded (corrupt
JSON, not nbformat 4, too large, not this assignment), or the notebook to run,
with:

* locked cells and test cells taken from the instructor's ``source`` notebook
  (solutions/), so that the hidden tests run; an edited or deleted test cell
  is put back, and the release's points are used;
* answer cells taken from the student, with the release's metadata; a deleted
  answer cell is *not* put back: its stub would redefine what the student wrote
  elsewhere (the notebook's own definitions are graded, as nbgrader does);
* the student's own extra cells kept, in their order, with their attachments;
* copies of a cell: the last one is graded, the others run as plain cells
  (nbgrader's ``DeduplicateIds``);
* ``notes`` for what was repaired (and is harmless) and ``review`` for what an
  instructor should look at (a graded cell the release does not have, such as
  a fake test cell worth 100 points).

Cells are named by their exercise in what the instructor reads (``Exercises``):
"the test of relu", "cell 31 (after exercise relu)".  nbgrader's own helpers
(``nbgrader.utils.is_grade``, ``is_solution``) say what a cell is.
"""
from __future__ import annotations

import ast
import copy
import json
import logging
import os
import re
from dataclasses import dataclass, field

import nbformat
from nbgrader.preprocessors import DeduplicateIds
from nbgrader.utils import is_grade, is_solution

MAX_FILE_BYTES = 100 << 20
KEEP_OUTPUT_BYTES = 1 << 20
MAX_EXTRA_FILE_BYTES = 20 << 20  # a file handed in beside the notebook (a module, a data file)
MAX_EXTRA_BYTES = 50 << 20  # all of them together
MAX_EXTRA_FILES = 200
_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_QUIET = logging.getLogger("grader.preflight")  # nbgrader's preprocessors warn there; notes say it instead
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def kind(cell) -> str:
    """"answer" (a solution cell), "test" (a grade cell that is not a solution) or "locked"."""
    if is_solution(cell):
        return "answer"
    return "test" if is_grade(cell) else "locked"


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


class Exercises:
    """The exercises of a release notebook, in order: each test cell, the exercise it grades (the answer
    cell before it) and its points; and names for any cell of a notebook built from the release."""

    def __init__(self, release) -> None:
        self.tests: dict[str, tuple[str, float]] = {}  # test grade_id -> (exercise, points)
        answer = None
        for cell in release.cells:
            if kind(cell) == "answer" and grade_id(cell):
                answer = grade_id(cell)
            elif is_grade(cell) and grade_id(cell):
                gid = grade_id(cell)
                name = gid[len("test_"):] if gid.startswith("test_") else answer or gid
                self.tests[gid] = (name, float(cell.metadata["nbgrader"].get("points", 0)))
        self.answers = {grade_id(c) for c in release.cells if kind(c) == "answer" and grade_id(c)}

    def exercise(self, test_id: str) -> str:
        return self.tests[test_id][0]

    def label(self, nb, k: int) -> str:
        """What the instructor calls cell ``k`` of ``nb``: "the test of relu", "the answer to relu",
        "the course's cell 'setup'", "cell 31 (after exercise relu)"."""
        gid = grade_id(nb.cells[k])
        if gid in self.tests and kind(nb.cells[k]) == "test":
            return f"the test of {self.exercise(gid)} ({gid})"
        if gid in self.answers and kind(nb.cells[k]) == "answer":
            return f"the answer to {gid}"
        if gid:
            return f"the course's cell {gid!r}"
        before = [self.exercise(grade_id(c)) for c in nb.cells[:k] if grade_id(c) in self.tests]
        return f"cell {k} ({'after exercise ' + before[-1] if before else 'before the first exercise'})"


@dataclass
class Prepared:
    """A submission ready to run, or the reason it cannot be graded."""

    nb: object = None
    cells: list = field(default_factory=list)  # what the kernel runs: index, kind, source, grade_id
    notes: list = field(default_factory=list)
    review: list = field(default_factory=list)
    failure: str | None = None
    untouched: bool = False  # no answer differs from the release and no code was added: the student's work is not here
    files: list = field(default_factory=list)  # (relative path, bytes): files handed in beside the notebook


def _output_bytes(cell) -> int:
    return len(json.dumps(cell.get("outputs", []))) if cell.get("cell_type") == "code" else 0


def load(path: str) -> tuple[object, str | None]:
    """(notebook dict, None) or (None, why it cannot be read)."""
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        return None, f"the file is {size / 2**20:.0f} MB, more than the {MAX_FILE_BYTES >> 20} MB limit"
    try:
        with open(path, encoding="utf-8-sig") as f:
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
    return {grade_id(c): c.source for c in source.cells if grade_id(c) and kind(c) != "answer"}


def with_hidden_tests(release, source):
    """The release with the instructor's test and locked cells (hidden tests included): what nbgrader's
    ``generate_assignment`` records in the gradebook, and what grading runs."""
    nb = copy.deepcopy(release)
    tests = graded_sources(source)
    for cell in nb.cells:
        if grade_id(cell) in tests and kind(cell) != "answer":
            cell.source = tests[grade_id(cell)]
    return nb


def prepare(path: str, release, source) -> Prepared:
    """Check the submission at ``path`` against the ``release`` notebook; test and locked cells come
    from the instructor's ``source`` notebook (see the module docstring)."""
    try:
        return _prepare(path, release, graded_sources(source))
    except Exception as err:  # a notebook shaped in a way nothing above expected: fail this one only
        return Prepared(failure=f"the notebook could not be read: {type(err).__name__}: {err}")


def _copies(data: dict, release_ids: set) -> dict[str, int]:
    counts: dict[str, int] = {}
    for cell in data["cells"]:
        gid = grade_id(cell)
        if gid in release_ids:
            counts[gid] = counts.get(gid, 0) + 1
    return {g: n for g, n in counts.items() if n > 1}


def _prepare(path: str, release, tests: dict[str, str]) -> Prepared:
    data, failure = load(path)
    if failure:
        return Prepared(failure=failure)
    out = Prepared()
    rel_cells = {grade_id(c): c for c in release.cells if grade_id(c)}
    graded = [g for g, c in rel_cells.items() if kind(c) != "locked"]
    present = {grade_id(c) for c in data["cells"]}
    if graded and not any(g in present for g in graded):
        return Prepared(failure=f"none of the release's {len(graded)} test and answer cells are in this notebook: "
                                "is it the right assignment?")
    for i, cell in enumerate(data["cells"]):
        if _output_bytes(cell) > KEEP_OUTPUT_BYTES:
            out.notes.append(f"cell {i} carried {_output_bytes(cell) / 2**20:.1f} MB of output, too large to keep; "
                             "outputs are cleared before grading")
        nbg = cell.get("metadata", {}).get("nbgrader")
        if nbg is not None and not nbg.get("grade_id"):
            cell["metadata"].pop("nbgrader")  # no grade_id: not a cell nbgrader can place
        if "outputs" in cell:
            cell["outputs"] = []  # (cleared before they are parsed: they may be huge or malformed)
    for gid, n in _copies(data, set(rel_cells)).items():
        out.notes.append(f"grade_id {gid!r} appears {n} times; the last copy was graded")
    nb = nbformat.from_dict(data)
    nb, _ = DeduplicateIds(log=_QUIET).preprocess(nb, {})  # earlier copies lose their nbgrader metadata
    cells = []
    for raw in nb.cells:
        gid = grade_id(raw)
        if gid not in rel_cells:
            nbg = raw.get("metadata", {}).get("nbgrader", {})
            if nbg.get("grade") or nbg.get("points"):
                out.review.append(f"graded cell {gid!r} ({nbg.get('points', 0)} points) is not in the release; "
                                  "it was ignored")
            elif gid is not None:
                out.notes.append(f"a cell has grade_id {gid!r}, which the release does not have; it ran as a "
                                 "plain cell")
            cells.append(_plain(raw, out))
            continue
        ref = rel_cells[gid]
        cell = copy.deepcopy(ref)
        if kind(ref) == "answer":
            cell.source = _text(raw.source)
            _attach(cell, raw, out)
        else:
            if _text(raw.source).strip() != ref.source.strip():
                out.notes.append(f"{kind(ref)} cell {gid!r} was edited; the release version was graded")
            cell.source = tests.get(gid, ref.source)
        cells.append(cell)
    _restore_missing(cells, release, tests, present, out)
    out.nb = _notebook(release, cells)
    out.untouched = _untouched(out.nb, release)
    guarded = guarded_names(release, tests)
    out.cells = [{"index": k, "kind": kind(c) if grade_id(c) in rel_cells else "code", "source": c.source,
                  "grade_id": grade_id(c)} for k, c in enumerate(out.nb.cells) if c.cell_type == "code"]
    for cell in out.cells:
        if cell["kind"] == "test":
            cell["guarded"] = sorted(_names(cell["source"]) & guarded)
    return out


def _names(source: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def guarded_names(release, tests: dict[str, str]) -> set[str]:
    """Names the test cells use that no answer cell of the release defines (``check_relu``, ``show_progress``
    ...): the course's setup cell defines them, the kernel keeps them as it did, and a test cell that runs
    before them (cells moved) is reported.  From the release, so that a deleted answer cell changes nothing."""
    defined = set()
    for cell in release.cells:
        if kind(cell) == "answer":
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                    defined.add(node.name)
                elif isinstance(node, ast.Assign):
                    defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
    used = set().union(*(_names(tests.get(grade_id(c), c.source)) for c in release.cells if kind(c) == "test"))
    return used - defined


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def _untouched(nb, release) -> bool:
    """No answer differs from the release, and the student added no code: an unworked copy of the release."""
    answers = {grade_id(c): c.source.strip() for c in release.cells if kind(c) == "answer"}
    plain = {c.source.strip() for c in release.cells if c.cell_type == "code" and not grade_id(c)}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in answers and kind(cell) == "answer":
            if cell.source.strip() != answers[gid]:
                return False
        elif not gid and cell.cell_type == "code" and cell.source.strip() not in plain | {""}:
            return False
    return True


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


def _plain(raw, out: Prepared):
    """A student's own cell, without nbgrader metadata (it runs but is not graded); attachments kept."""
    meta = {k: v for k, v in raw.get("metadata", {}).items() if k != "nbgrader"}
    new = {"code": nbformat.v4.new_code_cell, "raw": nbformat.v4.new_raw_cell}.get(
        raw.get("cell_type"), nbformat.v4.new_markdown_cell)
    cell = new(_text(raw.get("source", "")), metadata=meta)
    _attach(cell, raw, out)
    cell.id = str(raw.get("id", ""))
    return cell


def _attach(cell, raw, out: Prepared) -> None:
    """The attachments of a Markdown or raw cell (an image pasted into it), kept as they are; one that
    is not nbformat's shape (name -> {mime type: base64 text}) is dropped, with a note."""
    attachments = raw.get("attachments")
    if cell.cell_type == "code" or not attachments:
        return
    kept = {name: bundle for name, bundle in (attachments.items() if isinstance(attachments, dict) else ())
            if isinstance(name, str) and isinstance(bundle, dict) and bundle and all(
                isinstance(v, str) or isinstance(v, list) and all(isinstance(x, str) for x in v)
                for v in bundle.values())}
    if kept:
        cell.attachments = nbformat.from_dict(kept)
    if not isinstance(attachments, dict) or len(kept) < len(attachments):
        out.notes.append("a malformed image attachment of a Markdown cell was dropped")


def _restore_missing(cells: list, release, tests: dict, present: set, out: Prepared) -> None:
    """Put back every test and locked release cell that the student deleted, after the release cell that
    precedes it (or, if that one is missing too, the nearest one before it).  Deleted answer cells are not
    put back: their stub (``raise NotImplementedError()``) would redefine what the student wrote elsewhere."""
    anchor, missing_answers = None, []
    for ref in release.cells:
        gid = grade_id(ref)
        if not gid:
            continue
        if gid not in present:
            if kind(ref) == "answer":
                missing_answers.append(gid)
                continue
            at = 0 if anchor is None else next((k + 1 for k, c in enumerate(cells) if grade_id(c) == anchor),
                                                len(cells))
            restored = copy.deepcopy(ref)
            restored.source = tests.get(gid, ref.source)
            cells.insert(at, restored)
            out.notes.append(f"{kind(ref)} cell {gid!r} was missing and was put back from the release")
        anchor = gid
    if missing_answers:
        out.notes.append(f"the answer cell{'s' if len(missing_answers) > 1 else ''} of {', '.join(missing_answers)} "
                         f"{'were' if len(missing_answers) > 1 else 'was'} missing and not put back: the notebook's "
                         "own definitions were graded")


def extra_files(paths: list[tuple[str, str]], read: bool = True) -> tuple[list, list[str]]:
    """The files handed in beside the notebook, as nbgrader copies them into the grading folder:
    ``paths`` is (path relative to the submission folder, absolute path).  Returns ([(relative path,
    bytes)], notes); regular files only, each at most MAX_EXTRA_FILE_BYTES, MAX_EXTRA_BYTES in all.
    ``read=False``: the notes only."""
    files, copied, skipped, total = [], [], [], 0
    for rel, path in paths:
        try:
            size = os.lstat(path).st_size
            if os.path.islink(path) or not os.path.isfile(path):
                skipped.append(f"{rel} (not a regular file)")
            elif size > MAX_EXTRA_FILE_BYTES or total + size > MAX_EXTRA_BYTES or len(copied) >= MAX_EXTRA_FILES:
                skipped.append(f"{rel} ({size / 2**20:.1f} MB: over the limit of {MAX_EXTRA_FILE_BYTES >> 20} MB a "
                               f"file, {MAX_EXTRA_BYTES >> 20} MB and {MAX_EXTRA_FILES} files in all)")
            else:
                if read:
                    with open(path, "rb") as f:
                        files.append((rel, f.read(MAX_EXTRA_FILE_BYTES + 1)[:MAX_EXTRA_FILE_BYTES]))
                copied.append(rel)
                total += size
        except OSError as err:
            skipped.append(f"{rel} ({err.strerror})")
    notes = [f"the files handed in with the notebook were in its working directory (read-only): {', '.join(copied)}"] \
        if copied else []
    notes += [f"not copied into the working directory: {', '.join(skipped)}"] if skipped else []
    return files, notes
