"""Finding each student's notebooks, in the layouts instructors receive them.

``find(path, assignments, scratch, known, classify, ignore)`` accepts

* nbgrader's tree: ``<path>/<student>/<assignment>/...`` (``path`` is the
  ``submitted/`` folder); the other files of that folder are handed in with the
  notebook (``Submission.extras``: a module it imports, a data file it reads);
* a folder per student: ``<path>/<student>/<notebook>`` (as some learning-management
  systems export), its other files handed in with it; or a folder per assignment:
  ``<path>/<assignment>/<student>.ipynb``;
* a flat folder of ``<student>.ipynb`` (one assignment) or
  ``<student>_<assignment>.ipynb`` files;
* a zip of any of these (often with one top-level folder), extracted into
  ``scratch`` with limits on size and names; member names are decoded as the
  archiver wrote them (UTF-8 with or without the archive's UTF-8 flag, Info-ZIP's
  Unicode path field, or a legacy code page: GBK for Chinese Windows, CP437 for
  DOS and Western Windows), and a name that cannot be decoded is reported.

Every file that looks like a notebook counts: ``x.ipynb``, ``x.IPYNB``, ``x.ipynb.json``
(how Safari saves a download), ``x.ipynb.txt``; copies such as ``x-Copy1.ipynb``,
``x (1).ipynb`` or ``x copy.ipynb`` are *candidates* of the same student
(``Submission.candidates``; the grader grades them and says which one counts).
When several assignments are graded and a file's name does not say which one it is,
``classify(path)`` tells from its content.  Student ids keep the name as written,
in Unicode's composed form (NFC).

It returns ``{assignment: {student: Submission}}`` and a list of problems (files it
could not attribute, a zip it refused, names it could not decode).  The students'
files are only read.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shutil
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

MAX_ZIP_BYTES = 2 << 30
_STUDENT = re.compile(r"[^\w.@+-]+")  # letters of any script, digits, _ . @ + -
_NOTEBOOK = re.compile(r"\.ipynb(\.json|\.txt)?$", re.I)
_COPY = re.compile(r"(-Copy\d+| \(\d+\)| copy(?: \d+)?)$", re.I)  # JupyterLab, browsers, macOS Finder
_SKIPPED_DIRS = (".ipynb_checkpoints", "__MACOSX", "__pycache__")
NOT_HANDED_IN = ("timestamp.txt",)  # nbgrader's own file in submitted/: not the student's


@dataclass
class Submission:
    """What one student handed in for one assignment."""

    candidates: list = field(default_factory=list)  # paths of the files that look like this assignment's notebook
    folder: str | None = None  # the student's folder for the assignment: its other files are handed in too
    extras: list = field(default_factory=list)  # (path relative to folder, absolute path) of those files
    notes: list = field(default_factory=list)  # for the row's detail: a file name that could not be decoded


def student_id(text: str) -> str:
    """A safe student id (and file name) from a file or folder name, in Unicode's composed form (NFC)."""
    return _STUDENT.sub("_", unicodedata.normalize("NFC", text)).strip("._")[:100] or "unnamed"


def is_notebook_name(name: str) -> bool:
    """Whether a file name looks like a notebook's (``.ipynb`` in any case, ``.ipynb.json``, ``.ipynb.txt``)."""
    return bool(_NOTEBOOK.search(name)) and not name.startswith(".")


def without_suffix(name: str) -> str:
    """The name without its notebook suffix: ``ann-Copy1.ipynb.json`` -> ``ann-Copy1``."""
    return _NOTEBOOK.sub("", name)


def notebook_stem(name: str) -> str:
    """The name without its notebook suffix and without a copy marker: ``ann (1).ipynb.json`` -> ``ann``."""
    return _COPY.sub("", _NOTEBOOK.sub("", name)).strip()


def _unicode_path_field(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    """The name in Info-ZIP's Unicode Path extra field (0x7075), if present and made for this raw name."""
    extra, at = info.extra, 0
    while at + 4 <= len(extra):
        tag, size = int.from_bytes(extra[at:at + 2], "little"), int.from_bytes(extra[at + 2:at + 4], "little")
        body = extra[at + 4:at + 4 + size]
        if tag == 0x7075 and len(body) >= 5 and body[0] == 1 and \
                int.from_bytes(body[1:5], "little") == zlib.crc32(raw):
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        at += 4 + size
    return None


def _gb2312_like(raw: bytes) -> bool:
    """Whether every non-ASCII byte pair of ``raw`` lies in GB2312's range of Chinese characters (GBK's core):
    lead 0xB0-0xF7, trail 0xA1-0xFE, or the punctuation rows 0xA1-0xA9."""
    k = 0
    while k < len(raw):
        if raw[k] < 0x80:
            k += 1
            continue
        if k + 1 >= len(raw) or not (0xA1 <= raw[k] <= 0xF7 and 0xA1 <= raw[k + 1] <= 0xFE):
            return False
        k += 2
    return True


def member_name(info: zipfile.ZipInfo) -> tuple[str, str | None]:
    """(the name of a zip member as its archiver meant it, a problem or None).

    With the UTF-8 flag, Python's decoding stands.  Without it: Info-ZIP's Unicode path field, else
    UTF-8 if the bytes are valid UTF-8 (``zip`` on Linux and macOS writes UTF-8 without the flag), else
    GBK if they look like Chinese (Windows with a Chinese locale), else CP437 (DOS and Western Windows)
    if that gives letters; otherwise the name is undecodable: its other bytes are shown as %XX and reported."""
    if info.flag_bits & 0x800:
        return info.filename, None
    raw = info.filename.encode("cp437")  # (Python decoded the raw bytes as CP437: this gives them back)
    if raw.isascii():
        return info.filename, None
    named = _unicode_path_field(info, raw)
    if named is not None:
        return named, None
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    if _gb2312_like(raw):
        return raw.decode("gbk"), None
    as_cp437 = raw.decode("cp437")
    if all(c.isascii() or c.isalpha() for c in as_cp437):
        return as_cp437, None
    escaped = "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in raw)  # (no backslash: not a separator)
    return escaped, f"{escaped}: the zip does not say how this name is encoded, and it is neither UTF-8, GBK nor " \
                    "CP437 text; the file was kept under the name shown"


def _extract(archive: str, scratch: str) -> tuple[str, list[str], dict[str, str]]:
    """Extract a zip safely (names decoded, modification times kept); returns the folder to search, the
    problems, and {extracted path: a note on its name}."""
    problems, notes = [], {}
    target = os.path.join(scratch, "unzipped")
    os.makedirs(target, exist_ok=True)
    with zipfile.ZipFile(archive) as z:
        members = [m for m in z.infolist() if not m.is_dir()]
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise ValueError(f"{archive}: the zip expands to more than {MAX_ZIP_BYTES >> 30} GB; refused")
        for m in members:
            name, problem = member_name(m)
            parts = [unicodedata.normalize("NFC", p) for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
            if not parts or ".." in parts or parts[0].startswith("__MACOSX"):
                if parts and not parts[0].startswith("__MACOSX"):
                    problems.append(f"{name}: unsafe path in the zip; skipped")
                continue
            dest = os.path.join(target, *parts)
            if problem:
                problems.append(problem)
                notes[dest] = problem
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with z.open(m) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
            try:
                stamp = time.mktime(m.date_time + (0, 0, -1))
                os.utime(dest, (stamp, stamp))
            except (OverflowError, ValueError, OSError):
                pass
    entries = [e for e in os.listdir(target) if not e.startswith(".")]
    if len(entries) == 1 and os.path.isdir(os.path.join(target, entries[0])):
        return os.path.join(target, entries[0]), problems, notes  # one top-level folder
    return target, problems, notes


def _notebooks(root: str) -> list[str]:
    """Paths (relative to root) of every file under root that looks like a notebook."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        found += [os.path.relpath(os.path.join(folder, f), root) for f in sorted(files) if is_notebook_name(f)]
    return found


def handed_in(folder: str, ignore: list[str]) -> list[tuple[str, str]]:
    """The files of a student's folder other than notebooks, as nbgrader copies them when it grades
    (its ``CourseDirectory.ignore`` patterns left out): (relative path, absolute path)."""
    extras = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not any(fnmatch.fnmatch(d, p) for p in ignore) and d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if is_notebook_name(name) or name in NOT_HANDED_IN or any(fnmatch.fnmatch(name, p) for p in ignore):
                continue
            path = os.path.join(here, name)
            extras.append((os.path.relpath(path, folder), path))
    return extras


def _owner(stem: str, names: list[str]) -> str | None:
    """The assignment whose name ends the stem (``ann_01_activations`` -> ``01_activations``), if any."""
    return next((a for a in sorted(names, key=len, reverse=True) if stem.endswith("_" + a) or stem == a), None)


def find(path: str, assignments: list[str], scratch: str, known: list[str] = (), classify=None,
         ignore: list[str] = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")) -> tuple[dict, list[str]]:
    """Submissions under ``path`` for each of ``assignments`` (see the module docstring); ``known``: every
    assignment of the course, so that another assignment's files are recognised; ``classify(path)``: the
    assignment a notebook belongs to by its content (or None)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"make grade: SUBMISSIONS={path!r} does not exist")
    problems: list[str] = []
    notes: dict[str, str] = {}
    if os.path.isfile(path):
        if not zipfile.is_zipfile(path):
            raise ValueError(f"make grade: SUBMISSIONS={path!r} is a file but not a zip; give a folder or a zip")
        path, problems, notes = _extract(path, scratch)
    names = sorted(set(known) | set(assignments))
    found: dict[str, dict[str, Submission]] = {a: {} for a in assignments}
    owners: dict[tuple[str, str], str] = {}  # (assignment, student id) -> the folder or name it came from

    def assignment_of(stem: str, file: str) -> str | None:
        owner = _owner(stem, names)
        if owner is None and len(assignments) == 1:
            return assignments[0]
        if owner is None and classify is not None:
            owner = classify(file)
        return owner

    def add(assignment: str, student: str, origin: str, file: str, folder: str | None) -> None:
        """Files of one origin are candidates of one student; another origin with the same id (``ann lee``
        and ``ann_lee``) is another student: ann_lee, ann_lee-2."""
        unique, k = student, 1
        while (assignment, unique) in owners and owners[(assignment, unique)] != origin:
            k += 1
            unique = f"{student}-{k}"
        if unique != student and (assignment, unique) not in owners:
            problems.append(f"{file}: its student id {student!r} was taken by {owners[(assignment, student)]}; "
                            f"graded as {unique!r}")
        owners[(assignment, unique)] = origin
        submission = found[assignment].setdefault(unique, Submission(folder=folder))
        submission.candidates.append(file)
        if file in notes:
            submission.notes.append(notes[file])

    for rel in _notebooks(path):
        parts, file = rel.split(os.sep), os.path.join(path, rel)
        stem = notebook_stem(parts[-1])
        if len(parts) >= 3 and parts[1] in names:  # nbgrader: <student>/<assignment>/.../<notebook>
            assignment, student, origin = parts[1], parts[0], os.path.join(parts[0], parts[1])
            folder = os.path.join(path, parts[0], parts[1])
        elif len(parts) == 2 and parts[0] in names:  # <assignment>/<student>.ipynb
            assignment, student, origin, folder = parts[0], stem, os.path.join(parts[0], stem), None
        elif len(parts) == 2:  # <student>/<notebook>: a folder per student
            assignment = assignment_of(stem, file)
            student, origin, folder = parts[0], parts[0], os.path.join(path, parts[0])
        elif len(parts) == 1:  # flat: <student>.ipynb or <student>_<assignment>.ipynb
            owner = _owner(stem, names)
            assignment = assignment_of(stem, file)
            student = stem[:-len(owner) - 1] if owner and stem != owner and stem.endswith("_" + owner) else stem
            origin, folder = student, None
        else:
            problems.append(f"{file}: not in a layout this command reads (<student>/<assignment>/<notebook>, "
                            "<student>/<notebook>, <student>.ipynb, <student>_<assignment>.ipynb)")
            continue
        if assignment is None:
            problems.append(f"{file}: cannot tell the assignment (name it <student>_<assignment>.ipynb); ignored")
        elif assignment in found:
            add(assignment, student_id(student), origin, file, folder)
        # else: another assignment of the course, not graded in this run
    for submissions in found.values():
        for submission in submissions.values():
            if submission.folder is not None:
                submission.extras = handed_in(submission.folder, list(ignore))
    return found, problems
