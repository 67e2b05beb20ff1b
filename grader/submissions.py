"""Finding each student's notebook, in the layouts instructors receive them.

``find(path, assignments, scratch)`` accepts

* nbgrader's tree: ``<path>/<student>/<assignment>/*.ipynb`` (``path`` is the
  ``submitted/`` folder);
* a flat folder of ``<student>.ipynb`` (one assignment) or
  ``<student>_<assignment>.ipynb`` files;
* a zip of either (learning-management systems export zips, often with one
  top-level folder), extracted into ``scratch`` with limits on size and names.

It returns ``{assignment: {student: path}}`` and a list of problems (files it
could not attribute, duplicates, a zip it refused).  The students' files are
only read.
"""
from __future__ import annotations

import os
import re
import shutil
import zipfile

MAX_ZIP_BYTES = 2 << 30
_STUDENT = re.compile(r"[^\w.@+-]+")  # letters of any script, digits, _ . @ + -


def student_id(text: str) -> str:
    """A safe student id (and file name) from a file or folder name."""
    return _STUDENT.sub("_", text).strip("._")[:100] or "unnamed"


def _extract(archive: str, scratch: str) -> tuple[str, list[str]]:
    """Extract a zip safely; returns the folder to search and the problems."""
    problems = []
    target = os.path.join(scratch, "unzipped")
    os.makedirs(target, exist_ok=True)
    with zipfile.ZipFile(archive) as z:
        members = [m for m in z.infolist() if not m.is_dir()]
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise ValueError(f"{archive}: the zip expands to more than {MAX_ZIP_BYTES >> 30} GB; refused")
        for m in members:
            parts = [p for p in m.filename.replace("\\", "/").split("/") if p not in ("", ".")]
            if not parts or ".." in parts or parts[0].startswith("__MACOSX"):
                if parts and not parts[0].startswith("__MACOSX"):
                    problems.append(f"{m.filename}: unsafe path in the zip; skipped")
                continue
            dest = os.path.join(target, *parts)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with z.open(m) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
    entries = [e for e in os.listdir(target) if not e.startswith(".")]
    if len(entries) == 1 and os.path.isdir(os.path.join(target, entries[0])):
        return os.path.join(target, entries[0]), problems  # one top-level folder
    return target, problems


def _notebooks(folder: str) -> list[str]:
    return sorted(f for f in os.listdir(folder) if f.endswith(".ipynb") and not f.startswith("."))


def find(path: str, assignments: list[str], scratch: str, known: list[str] = ()) -> tuple[dict, list[str]]:
    """Submissions under ``path`` for each of ``assignments`` (see the module docstring);
    ``known``: every assignment of the course, so that another assignment's files are recognised."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"make grade: SUBMISSIONS={path!r} does not exist")
    problems: list[str] = []
    if os.path.isfile(path):
        if not zipfile.is_zipfile(path):
            raise ValueError(f"make grade: SUBMISSIONS={path!r} is a file but not a zip; give a folder or a zip")
        path, problems = _extract(path, scratch)
    found: dict[str, dict[str, str]] = {a: {} for a in assignments}

    def add(assignment: str, student: str, file: str) -> None:
        """Two files that give the same id (``ann lee`` and ``ann_lee``) are both graded: ann_lee, ann_lee-2."""
        unique, k = student, 1
        while unique in found[assignment]:
            k += 1
            unique = f"{student}-{k}"
        if unique != student:
            problems.append(f"{file}: its student id {student!r} was taken by {found[assignment][student]}; "
                            f"graded as {unique!r}")
        found[assignment][unique] = file

    elsewhere = set()  # notebooks of the course's other assignments: not this run's business
    subdirs = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)) and not d.startswith("."))
    for d in subdirs:  # nbgrader: <student>/<assignment>/<notebook>.ipynb
        for other in set(known) - set(assignments):
            if os.path.isdir(os.path.join(path, d, other)):
                elsewhere.update(os.path.realpath(os.path.join(path, d, other, b))
                                 for b in _notebooks(os.path.join(path, d, other)))
        for a in assignments:
            folder = os.path.join(path, d, a)
            if os.path.isdir(folder):
                books = _notebooks(folder)
                preferred = [b for b in books if b == f"{a}.ipynb"] or books
                if preferred:
                    add(a, student_id(d), os.path.join(folder, preferred[0]))
                    problems += [f"{os.path.join(folder, b)}: not the assignment's notebook; ignored"
                                 for b in books if b != preferred[0]]
    for name in _notebooks(path):  # flat: <student>.ipynb or <student>_<assignment>.ipynb
        stem = name[:-len(".ipynb")]
        owner = next((a for a in sorted(set(known) | set(assignments), key=len, reverse=True)
                      if stem.endswith("_" + a)), None)
        if owner and owner not in assignments:
            elsewhere.add(os.path.realpath(os.path.join(path, name)))  # another assignment's notebook
            continue
        if owner:
            add(owner, student_id(stem[:-len(owner) - 1]), os.path.join(path, name))
        elif len(assignments) == 1:
            add(assignments[0], student_id(stem), os.path.join(path, name))
        else:
            problems.append(f"{name}: cannot tell the assignment (name it <student>_<assignment>.ipynb); ignored")
    taken = {os.path.realpath(f) for files in found.values() for f in files.values()} | elsewhere
    for folder, _, files in os.walk(path):
        for name in sorted(files):
            file = os.path.join(folder, name)
            if name.endswith(".ipynb") and ".ipynb_checkpoints" not in folder and os.path.realpath(file) not in \
                    taken and not any(p.startswith(file) or p.startswith(name) for p in problems):
                problems.append(f"{file}: not in a layout this command reads "
                                "(<student>/<assignment>/*.ipynb, <student>.ipynb, <student>_<assignment>.ipynb)")
    return found, problems
