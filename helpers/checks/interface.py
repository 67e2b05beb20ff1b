"""What the class grader may know of the checks: this module, and nothing else of ``helpers.checks``.

The grader (the ``grader`` package, ``make grade``) runs the notebooks' test cells,
which call the checks, in the same process as the student's code.  It needs a few
facts about the checks, which it takes from here:

- the exception classes: ``CheckFailure`` (a check found a mismatch), its subclasses
  ``NotImplementedYet`` (the function still raises NotImplementedError) and
  ``ReferenceDelegation`` (the function handed its work to the course's reference);
- ``after_student_call(hook)``: ``hook()`` runs after every call of a student's
  function by a check (the grader verifies there that nothing was tampered with);
- ``RUNTIME_STATE``: attributes of the checks' modules that change while checks run
  (not tampering);
- ``source_files()``: the files of the checks' code;
- ``use_short_tracebacks()``: IPython shows a failed check as its message alone;
- the delegation watch: while a check calls a student's function it installs a
  profile function (``sys.setprofile``) that sees calls of the reference.  A time
  limit must not interrupt the watch (or the checks' context managers) half-way:
  ``interruptible(frame)`` says whether a frame may be interrupted now, and
  ``stop_watch()`` removes a watch that was left installed.

``helpers`` never imports the grader.
"""
from __future__ import annotations

import contextlib
import sys
import types

from . import framework
from .framework import CheckFailure, NotImplementedYet, ReferenceDelegation, use_short_tracebacks

#: module -> attribute names that change in normal operation
RUNTIME_STATE = {framework.__name__: {"_ALLOWED", "_WATCHING"}}

_CONTEXTLIB = contextlib.__file__


def after_student_call(hook) -> None:
    """Run ``hook()`` after every call of a student's function by a check (also when it raised)."""
    if not callable(hook):
        raise TypeError(f"after_student_call: argument 'hook' must be callable; received {hook!r}")
    framework._AFTER_STUDENT_CALL.append(hook)


def source_files() -> tuple[str, ...]:
    """The source files of the checks' code (the watch's own sys.setprofile calls come from them)."""
    return tuple(sorted({code.co_filename for code in framework.check_code().values()}))


#: the code of the checks' context managers and of what they define inside (the watch's profile function)
_UNINTERRUPTIBLE = frozenset(id(code) for manager in (framework.no_delegation, framework.using_reference)
                             for code in framework._codes(manager.__wrapped__))


def interruptible(frame: types.FrameType | None) -> bool:
    """False while ``frame`` runs the delegation watch or the checks' context managers (which install and
    remove the watch and swap references into the notebook), or contextlib on their behalf: an exception
    raised there (a time limit) would leave them half done.  Wait a few milliseconds and ask again."""
    if frame is None:
        return True
    return id(frame.f_code) not in _UNINTERRUPTIBLE and frame.f_code.co_filename != _CONTEXTLIB


def stop_watch() -> bool:
    """Remove the delegation watch if one is installed (after a cell was stopped); True if there was one."""
    if framework._WATCHING and sys.getprofile() in framework._WATCHING:
        sys.setprofile(None)
        framework._WATCHING.clear()
        return True
    framework._WATCHING.clear()
    return False


__all__ = ["CheckFailure", "NotImplementedYet", "ReferenceDelegation", "RUNTIME_STATE", "after_student_call",
           "interruptible", "source_files", "stop_watch", "use_short_tracebacks"]
