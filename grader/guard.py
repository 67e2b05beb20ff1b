"""Tamper detection inside the process that runs a submission.

Student code runs in the same interpreter as the checks, so it could change
what the checks compare with: replace ``numpy.allclose``, a function of
``helpers``, an entry of ``sys.modules``, a ``check_*`` name in the notebook,
or the code object of a function.  Two defences work together:

* ``Baseline`` is taken before any student code runs: every attribute of the
  protected modules (numpy, helpers, builtins, sys and the standard modules the
  checks use), copies of their module-level arrays, lists and dicts, and the
  protected entries of ``sys.modules``.  ``Baseline.verify()`` runs before and
  after every cell and after every call of a student's function by a check: it
  names each change and puts the original back (a function's ``__code__`` or
  defaults too, from what the audit hook recorded before they were set), so the
  checks always compare with the real functions, and the submission is flagged.
* ``watch`` installs an audit hook (PEP 578, which code cannot remove) that
  records what Python reports but a snapshot cannot see: replacing a
  function's ``__code__`` or a class attribute of a protected module, walking
  the garbage collector or the stack frames from the submission's own code,
  compiling under a library's file name, ctypes, starting processes, sending
  signals, opening network connections, reading the hidden folders (solutions,
  submissions) and writing outside the throwaway working directory.

What is not defended against is listed in the README (instructor section).
"""
from __future__ import annotations

import copy
import os
import sys
import types

import numpy as np

from helpers.checks import interface as checks

PROTECTED = ("numpy", "helpers", "grader", "builtins", "sys", "os", "posix", "json", "signal", "time", "hmac", "hashlib",
             "copy", "warnings", "contextlib", "dataclasses", "math", "functools", "operator", "types", "traceback",
             "IPython.core.interactiveshell")
#: attributes that change in normal operation: IPython and the grader swap sys's streams and hooks and
#: builtins' exit/quit, warnings.catch_warnings swaps the filters and the display of warnings
VOLATILE = {
    "sys": {"last_type", "last_value", "last_traceback", "last_exc", "stdout", "stderr", "stdin", "displayhook",
            "excepthook", "ps1", "ps2", "ps3", "path", "path_importer_cache", "tracebacklimit"},
    "builtins": {"exit", "quit", "_"},
    "warnings": {"filters", "_showwarnmsg_impl", "showwarning", "defaultaction", "onceregistry"},
    **checks.RUNTIME_STATE,  # the checks' own state while they run
}
_MISSING = object()
_CHANGED_CODE: list = []  # (function of a protected module, attribute, value before the student set it)
_same_array = np.array_equal  # captured before any student code runs
_deepcopy = copy.deepcopy


def _protected(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PROTECTED)


def _equal(a, b) -> bool:
    try:
        if isinstance(a, np.ndarray):
            return isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and \
                bool(_same_array(a, b, equal_nan=a.dtype.kind in "fc"))
        return bool(a == b)
    except Exception:
        return False


class Baseline:
    """The state of the protected modules before student code; ``verify`` restores it."""

    def __init__(self) -> None:
        self.modules = {name: m for name, m in list(sys.modules.items())
                        if _protected(name) and isinstance(m, types.ModuleType)}
        self.attrs = {}
        self.values = {}
        for name, module in self.modules.items():
            attrs = {k: v for k, v in vars(module).items() if k not in VOLATILE.get(name, ())}
            self.attrs[name] = attrs
            if name.startswith("helpers"):
                for key, value in attrs.items():  # (VOLATILE names are left out of attrs already)
                    if isinstance(value, (np.ndarray, list, dict, set, tuple)) and not key.startswith("__"):
                        try:
                            self.values[(name, key)] = (value, _deepcopy(value))
                        except Exception:
                            pass

    def verify(self) -> list[str]:
        """The changes made since the baseline (each restored), as sentences."""
        changes = []
        for name, module in self.modules.items():
            if sys.modules.get(name, _MISSING) is not module:
                changes.append(f"sys.modules[{name!r}] was replaced or removed")
                sys.modules[name] = module
            current = vars(module)
            for key, value in self.attrs[name].items():
                if current.get(key, _MISSING) is not value:
                    changes.append(f"{name}.{key} was replaced" if key in current else f"{name}.{key} was deleted")
                    setattr(module, key, value)
        for (name, key), (obj, saved) in self.values.items():
            if not _equal(obj, saved):
                changes.append(f"the contents of {name}.{key} were changed")
                self._refill(obj, saved)
        pending = _CHANGED_CODE[:]  # seen by the audit hook (``watch``): NumPy's functions too
        for fn, name, value in reversed(pending):
            if getattr(fn, name) is not value:
                changes.append(f"the {name} of {fn.__module__}.{fn.__qualname__} was replaced")
                setattr(fn, name, value)
        del _CHANGED_CODE[:]  # (including what putting them back reported)
        if sys.gettrace() is not None or sys.getprofile() is not None:
            changes.append("a trace or profile function was installed (sys.settrace / sys.setprofile)")
            sys.settrace(None)
            sys.setprofile(None)
        return changes

    @staticmethod
    def _refill(obj, saved) -> None:
        """Put the saved contents back into a changed module-level container."""
        if isinstance(obj, np.ndarray):
            obj.flags.writeable = True
            obj[...] = saved
        elif isinstance(obj, (list, dict, set)):
            obj.clear()
            obj.update(saved) if not isinstance(obj, list) else obj.extend(saved)


def _plain(text):
    """An exact str (or None) from a str or bytes of any subclass, without running any of its methods."""
    if isinstance(text, bytes):
        text = os.fsdecode(b"".join([text]))
    return "".join([text]) if isinstance(text, str) else None


def _under(path, folders) -> bool:
    path = _plain(path)
    if path is None:
        return False
    path = os.path.abspath(path)
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PROCESS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
            "pty.spawn"}
_GC = {"gc.get_objects", "gc.get_referrers", "gc.get_referents"}
_FRAMES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame"}


_TRUSTED: dict[str, bool] = {}
_UNTRUSTED_DIRS: list[str] = []  # where the submission can write files (set by ``watch``)
_RESERVED = ("<test cell", "<frozen")  # names of trusted code that a submission must not compile under


def _trusted(code) -> bool:
    """Code of a library or of the course (compiled from a file that exists and that the submission
    cannot have written), or a test cell's (``compile`` under such names is flagged)."""
    name = code.co_filename
    if name not in _TRUSTED:
        written = _under(name, _UNTRUSTED_DIRS) and os.access(name, os.W_OK)  # (a course cloned under /tmp
        _TRUSTED[name] = name.startswith(_RESERVED) or (  # is bound back read-only: it stays trusted)
            os.path.isabs(name) and os.path.isfile(name) and not written)
    return _TRUSTED[name]


def student_code(code) -> bool:
    """Whether ``code`` is the submission's own: compiled from a cell, from a string it built, or from a
    file it wrote (not a library's, the course's or a test cell's)."""
    return not _trusted(code)


_FRAME_GIVERS = ("inspect.py", "traceback.py")  # they hand frames to their caller


def _from_student(frame) -> bool:
    """Whether ``frame`` runs code a submission made (a cell, or code it compiled or exec'd), or is
    inspect/traceback working for such code."""
    if frame is None:
        return False
    if not _trusted(frame.f_code):
        return True
    return frame.f_code.co_filename.endswith(_FRAME_GIVERS) and frame.f_back is not None and \
        not _trusted(frame.f_back.f_code)


class _Watch:
    """The audit hook's handlers, one small method per kind of event (see ``HANDLERS``).

    Each is called directly by the hook, so ``self.getframe(2)`` is the frame that raised the event
    (above the handler and the hook)."""

    def __init__(self, report, hidden: list[str], writable: list[str], own_files: tuple[str, ...]) -> None:
        self.report, self.hidden, self.writable, self.own_files = report, hidden, writable, own_files
        self.getframe = sys._getframe

    def opened(self, event, args):
        path, mode, flags = _plain(args[0]), _plain(args[1]), args[2]
        if _under(path, self.hidden):
            self.report(f"opened {path}, inside a folder hidden from submissions")
        elif path is not None and ((mode and any(c in mode for c in "wax+")) or
                                   (flags if type(flags) is int else 0) & _WRITE) and not _under(path, self.writable):
            self.report(f"tried to write {path}, outside its working directory")

    def listed(self, event, args):
        if _under(args[0], self.hidden):
            self.report(f"listed {_plain(args[0])}, a folder hidden from submissions")

    def attribute_set(self, event, args):
        obj, name = args[0], _plain(args[1])
        function = type(obj) is types.FunctionType
        module = obj.__module__ if function else type.__dict__["__module__"].__get__(obj) if type(obj) is type else ""
        module = _plain(module) or ""
        if function and _protected(module) and name in ("__code__", "__defaults__", "__kwdefaults__"):
            _CHANGED_CODE.append((obj, name, getattr(obj, name)))  # put back by Baseline.verify
        if _from_student(self.getframe(2)) and _protected(module) and not module.startswith("IPython"):
            # (not from library code: NumPy's lazy imports set attributes of its classes)
            self.report(f"set {name} of {'a function' if function else 'a class'} of {module} "
                        f"({_plain(obj.__qualname__)})")

    def compiled(self, event, args):
        if _from_student(self.getframe(2)):
            name = _plain(args[1]) or ""
            if os.path.isabs(name) or name.startswith(_RESERVED):
                self.report(f"compiled code under the file name {name}, which belongs to a library or the grader")

    def code_built(self, event, args):
        self.report("built a code object by hand (code.__new__ / code.replace)")

    def objects_walked(self, event, args):
        self.report(f"walked the interpreter's objects ({event})")

    def frames_taken(self, event, args):
        if _from_student(self.getframe(2)):
            self.report(f"inspected the grader's stack frames ({event})")

    def frame_attribute(self, event, args):
        if args[1] in _FRAMES and _from_student(self.getframe(2)):
            self.report(f"inspected the grader's stack frames ({args[1]})")

    def ctypes_used(self, event, args):
        self.report(f"used ctypes ({event})")

    def process_started(self, event, args):
        self.report(f"started a process ({event})")

    def signal_sent(self, event, args):
        self.report(f"sent a signal ({event})")

    def network_used(self, event, args):
        self.report(f"opened a network connection ({event} {args[1]!r})")

    def tracer_installed(self, event, args):
        if self.getframe(2).f_code.co_filename not in self.own_files:
            self.report(f"installed a trace or profile function ({event})")


#: audit event -> handler; events under a prefix ("ctypes.") -> PREFIX_HANDLERS
HANDLERS = {
    "open": _Watch.opened,
    "os.listdir": _Watch.listed, "os.scandir": _Watch.listed,
    "object.__setattr__": _Watch.attribute_set,
    "object.__getattr__": _Watch.frame_attribute,
    "compile": _Watch.compiled,
    "code.__new__": _Watch.code_built,
    **dict.fromkeys(_GC, _Watch.objects_walked),
    "sys._getframe": _Watch.frames_taken, "sys._current_frames": _Watch.frames_taken,
    **dict.fromkeys(_PROCESS, _Watch.process_started),
    "os.kill": _Watch.signal_sent, "os.killpg": _Watch.signal_sent, "signal.pthread_kill": _Watch.signal_sent,
    "socket.connect": _Watch.network_used, "socket.bind": _Watch.network_used,
    "sys.settrace": _Watch.tracer_installed, "sys.setprofile": _Watch.tracer_installed,
}
PREFIX_HANDLERS = {"ctypes": _Watch.ctypes_used}


def watch(report, *, hidden: list[str], writable: list[str], own_files: tuple[str, ...]) -> None:
    """Install the audit hook; ``report(reason)`` is called for every suspicious event.

    hidden: folders the submission must not read (solutions, submissions, reports);
    writable: folders it may write (its working directory, /tmp, /dev/null);
    own_files: source files of the grader, whose own calls (sys.setprofile) are not reported.
    """
    watcher = _Watch(report, [os.path.abspath(f) for f in hidden], [os.path.abspath(f) for f in writable], own_files)
    _UNTRUSTED_DIRS[:] = [w for w in watcher.writable if w != os.devnull]
    _TRUSTED.clear()
    table, prefixes = {e: h.__get__(watcher) for e, h in HANDLERS.items()}, \
        {p: h.__get__(watcher) for p, h in PREFIX_HANDLERS.items()}
    busy = [False]  # the handlers' own sys._getframe raises an event too: never look at those

    def hook(event, args):
        if busy[0] or event == "builtins.id" or event == "object.__getattr__" and args[1] not in _FRAMES:
            return  # (the frequent events first: they cost every check a little)
        handler = table.get(event) or prefixes.get(event.partition(".")[0])
        if handler is None:
            return
        busy[0] = True
        try:
            handler(event, args)
        except Exception:  # an audit hook must never break the operation it watches
            pass
        finally:
            busy[0] = False

    sys.addaudithook(hook)
