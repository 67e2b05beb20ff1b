"""Running a submission's cells in a forked, pre-warmed process, as a Jupyter kernel would.

The grader imports NumPy, matplotlib, IPython and ``helpers`` once (``warm_up``),
then forks one process per submission (``run``): starting a Jupyter kernel and
importing everything again would cost more than grading the notebook.  In the
fork, the files handed in beside the notebook are put into its working
directory (read-only), and the cells run in an IPython ``InteractiveShell``
(``shell``: magics, display, ``%matplotlib inline`` work as in Jupyter; shell
escapes and installs are not run; tracebacks show the student's frames only),
with their outputs captured and capped.  Test cells, which come from the instructor's notebook (hidden tests
included), are executed directly with ``exec`` in the notebook's namespace, so
nothing the student's cells did to IPython (input transformers, custom exception
handlers, event callbacks) can change their outcome; before and after every
cell, and after every call of a student's function by a check, the ``check_*``
names and the protected modules are verified and restored (``guard``).

Each cell's result is sent to the parent as one signed line (``protocol``):
``{"start": i}`` when cell i starts, then ``{"cell": i, "outputs": [...],
"error": name or null, "seconds": t, "truncated": bool}``, ``{"flags": [...]}``
for tampering (at once), ``{"neutralised": [i, line, how]}`` for a line that was
not run as written, and ``{"end": true}``.  A cell that runs longer than
its time limit is interrupted with ``CellTimeout``; one that ignores the
interruption is killed by the parent.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import sys
import time
import traceback

import numpy as np

from helpers.checks import interface as checks

from . import guard, protocol, sandbox, shell as shells

_exit, _errstate = os._exit, np.errstate  # bound before any student code runs
COURSE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # holds helpers/ and grader/

MAX_NOTES = 50  # lines reported as not run, per notebook
GRADING_ENV = {"NBGRADER_EXECUTION": "autograde", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


class CellTimeout(BaseException):
    """The cell ran longer than the per-cell time limit (a BaseException: ``except Exception`` does not catch it)."""


class Outputs:
    """The outputs of the running cell, in nbformat's shape, with caps on their size.

    text_cap: characters of stdout/stderr kept per cell; cap: bytes of all outputs per cell
    (figures included); ``budget`` (shared by all cells) caps the whole notebook.
    """

    def __init__(self, cap: int, text_cap: int, budget: list) -> None:
        self.cap, self.text_cap, self.budget = cap, text_cap, budget
        self.items, self.size, self.text, self.truncated = [], 0, 0, False

    def _room(self, n: int, text: bool = False) -> int:
        room = max(0, min(self.cap - self.size, self.budget[0], self.text_cap - self.text if text else n))
        if n > room:
            self.truncated = True
        return min(n, room)

    def _spend(self, n: int, text: bool = False) -> None:
        self.size += n
        self.budget[0] -= n
        if text:
            self.text += n

    def stream(self, name: str, text: str) -> None:
        text = _clean(text)
        keep = self._room(len(text), text=True)
        if keep <= 0:
            return
        self._spend(keep, text=True)
        if self.items and self.items[-1].get("name") == name and self.items[-1]["output_type"] == "stream":
            self.items[-1]["text"] += text[:keep]
        else:
            self.items.append({"output_type": "stream", "name": name, "text": text[:keep]})

    def bundle(self, kind: str, data: dict, metadata: dict | None, count: int | None = None) -> None:
        data = {_clean(k): (base64.b64encode(v).decode() if isinstance(v, bytes) else _clean(v)) for k, v in
                data.items() if isinstance(k, str) and isinstance(v, (str, bytes))}
        metadata = metadata if isinstance(metadata, dict) else {}
        try:
            metadata = json.loads(_clean(json.dumps(metadata)))
        except (TypeError, ValueError):
            metadata = {}
        n = sum(len(v) for v in data.values())
        if self._room(n) < n:
            return
        self._spend(n)
        item = {"output_type": kind, "data": data, "metadata": metadata or {}}
        if kind == "execute_result":
            item["execution_count"] = count
        self.items.append(item)

    def error(self, ename: str, evalue: str, stb: list[str]) -> None:
        text = [_clean(str(line)[:4000]) for line in stb[-60:]]
        self.items.append({"output_type": "error", "ename": _clean(ename), "evalue": _clean(evalue[:4000]),
                           "traceback": text})

    def clear(self) -> None:
        self.budget[0] += self.size
        self.items, self.size, self.text = [], 0, 0


def _clean(text: str) -> str:
    """Text that UTF-8 can hold (a lone surrogate such as '\\ud800' becomes '?')."""
    return text.encode("utf-8", "replace").decode("utf-8")


class _Writer:
    """sys.stdout / sys.stderr of the submission."""

    encoding, errors = "utf-8", "replace"

    def __init__(self, name: str, sink) -> None:
        self.name, self.sink = name, sink

    def write(self, text) -> int:
        text = str(text)
        self.sink().stream(self.name, text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("the grader's output streams have no file descriptor")


_current = {"outputs": Outputs(0, 0, [0]), "guard": lambda: None,  # the running cell's outputs, its guard
            "note": lambda line, how: None}  # and where a line that was not run as written is reported


def _after_student_call() -> None:
    """Installed in the checks' framework: after each call of a student's function, verify and restore
    (a patch made inside the function and undone before the cell ends is caught too)."""
    _current["guard"]()


def _sink() -> Outputs:
    return _current["outputs"]


def _note(line: str, how: str) -> None:
    _current["note"](line, how)


def single_threaded_blas() -> None:
    """One BLAS thread per grading process: parallel gradings share the cores, and a multithreaded
    BLAS that must share them slows down tenfold.  (The environment variables set in ``grader/__init__``
    act only before NumPy is loaded; threadpoolctl tells the loaded libraries, and forks inherit it.)"""
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1)


def warm_up() -> dict:
    """Import everything a notebook uses and build the shell, once, before forking."""
    os.environ.update(GRADING_ENV)
    single_threaded_blas()
    import pkgutil
    import importlib
    import helpers
    shell = shells.make_shell(_sink, _note)
    shell.enable_matplotlib("inline")
    for module in pkgutil.walk_packages(helpers.__path__, "helpers."):
        importlib.import_module(module.name)
    _draw_once()
    checks.use_short_tracebacks()
    checks.after_student_call(_after_student_call)
    return {"shell": shell, "baseline": guard.Baseline()}


def _draw_once() -> None:
    """Render one figure with text, math and a legend, so that fonts and caches are loaded once here
    rather than in every forked process."""
    import io
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(4, 2))
    ax[0].plot([0, 1], [0, 1], label=r"$\sigma(z)$")
    ax[0].legend()
    ax[1].contourf([[0, 1], [1, 0]])
    ax[1].set_title("warm-up")
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close(fig)


def _exec_test(source: str, name: str, namespace: dict, outputs: Outputs) -> str | None:
    """Run a test cell's (trusted) source; record an error output; return the error's class name."""
    try:
        exec(compile(source, f"<test cell {name}>", "exec"), namespace)
    except BaseException as err:  # noqa: B036 - every failure of a test cell is a result to record
        shells.student_only(err)  # the student's frames only: nothing of the checks, the grader or Python's files
        cause = err.__cause__
        stb = traceback.format_exception(type(cause), cause, cause.__traceback__) if cause is not None else []
        if type(err).__name__ == "CheckFailure" or isinstance(err, AssertionError):
            stb.append(f"{type(err).__name__}: {err}")
        else:
            stb = traceback.format_exception(type(err), err, err.__traceback__)
        outputs.error(type(err).__name__, str(err), stb)
        return type(err).__name__
    return None


def run(state: dict, cells: list[dict], fd: int, limits: dict, skip: dict[int, str], hidden: list[str],
        files: list[tuple[str, bytes]] = ()) -> None:
    """The forked process: isolate, put ``files`` (handed in beside the notebook: relative path, content)
    into the working directory, read-only, run every cell, report on ``fd`` (signed with limits["key"]);
    never returns."""
    key = bytes.fromhex(limits["key"])

    def send(message: dict) -> None:
        protocol.send(fd, key, message)

    code = 0
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for target in (0, 1, 2):
            os.dup2(devnull, target)
        holds = sandbox.enter(memory_bytes=limits["memory_bytes"], cpu_seconds=limits["notebook_seconds"] + 5,
                              hide=hidden, uid=limits["uid"],
                              expose=[sys.base_prefix, sys.prefix, COURSE, *[p for p in sys.path if p]])
        workdir = "/tmp/work" if "private /tmp" in holds else limits["workdir"]
        os.chdir(workdir)
        _place(files)
        sys.path.insert(0, workdir)  # as in Jupyter: a module the notebook writes there can be imported
        os.environ.update(HOME=workdir, TMPDIR=workdir if workdir != "/tmp/work" else "/tmp")
        send({"isolation": holds})
        writable = [workdir, os.devnull] + (["/tmp", "/var/tmp", "/dev/shm"] if workdir == "/tmp/work" else [])
        own = (__file__, guard.__file__, *checks.source_files())
        guard.watch(lambda reason: send({"flags": [reason]}), hidden=hidden, writable=writable, own_files=own)
        _run_cells(state, cells, send, limits, skip)
        send({"end": True})
    except BaseException as err:  # the grader's own failure: report it, never hang the parent
        try:
            send({"crash": f"{type(err).__name__}: {err}"})
        except BaseException:
            pass
        code = 70
    finally:
        _exit(code)


def _place(files: list[tuple[str, bytes]]) -> None:
    """Write the files handed in beside the notebook into the working directory, read-only (as nbgrader
    copies them beside the notebook it grades); the directory itself stays writable."""
    for relative, data in files:
        path = os.path.join(os.getcwd(), relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o444)


def _without_figures(shell) -> None:
    """Show figures as their one-line text ("<Figure size 640x480 with 1 Axes>") instead of rendering
    them: figures are not graded, and drawing them is a third of the grading time."""
    from matplotlib.figure import Figure
    for formatter in shell.display_formatter.formatters.values():
        formatter.pop(Figure, None)


def _where_stopped(shell, frame) -> str:
    """Where the student's own code was when a time limit stopped it: the innermost frame of a notebook
    cell, as ' in relu (Cell In[12], line 3): an endless loop in relu?', ' at Cell In[14], line 2' for code
    outside functions, or '' when no cell's code is on the stack."""
    name_of = getattr(shell.compile, "format_code_name", None)     # IPython >= 8
    while frame is not None and name_of is not None:
        cell = name_of(frame.f_code.co_filename)
        if cell is not None:
            place = f"{' '.join(cell)}, line {frame.f_lineno}"
            name = frame.f_code.co_name
            return f" at {place}" if name == "<module>" else f" in {name} ({place}): an endless loop in {name}?"
        frame = frame.f_back
    return ""


def _run_cells(state, cells, send, limits, skip) -> None:
    shell, baseline = state["shell"], state["baseline"]
    if not limits["figures"]:
        _without_figures(shell)
    namespace = shell.user_ns
    guarded = set().union(*(cell.get("guarded", ()) for cell in cells))  # see preflight.guarded_names
    originals: dict = {}
    budget = [limits["notebook_output_bytes"]]
    stdout, stderr = _Writer("stdout", _sink), _Writer("stderr", _sink)
    in_cell = [False]

    def on_alarm(signum, frame):
        if not in_cell[0]:  # not once the cell is over: the grader's own bookkeeping is never interrupted
            return
        if not checks.interruptible(frame) or frame.f_code.co_filename in _GRADER_FILES:
            signal.setitimer(signal.ITIMER_REAL, 0.01)  # the checks' watch or the grader's own code: soon
            return
        raise CellTimeout(f"the cell ran longer than its limit of {limits['cell_seconds']} s and was stopped"
                          f"{_where_stopped(shell, frame)}")

    def check_integrity():
        """Restore what student code changed; report each change at once (nothing can erase it later).
        A name the tests use that was deleted (``%reset``, ``del``) is put back quietly: only a replaced
        one could fool a test."""
        changes = baseline.verify()
        for name, value in originals.items():
            if namespace.get(name, value) is not value:
                changes.append(f"the notebook name {name} (used by the tests) was redefined")
            namespace[name] = value
        if changes:
            send({"flags": changes})

    noted = []

    def note(line: str, how: str) -> None:
        """A line that did not run as written (a shell command, an install, %prun): reported, not flagged."""
        if len(noted) < MAX_NOTES:
            noted.append(line)
            send({"neutralised": [_current["cell"], line[:200], how]})

    signal.signal(signal.SIGALRM, on_alarm)
    for cell in cells:
        i = cell["index"]
        send({"start": i})
        outputs = Outputs(limits["output_bytes"], limits["text_bytes"], budget)
        _current.update(outputs=outputs, cell=i, note=note)
        started = time.monotonic()
        sys.stdout, sys.stderr = stdout, stderr
        check_integrity()
        signal.signal(signal.SIGALRM, on_alarm)
        missing = [n for n in cell.get("guarded", ()) if n not in originals] if cell["kind"] == "test" else []
        if i in skip:
            error = _fail(outputs, "CellSkipped", f"not run: {skip[i]}")
        elif missing:
            send({"flags": [f"test cell {cell['grade_id']} came before the course's setup cell that defines "
                            f"{', '.join(sorted(missing))} (cells were moved)"]})
            error = _fail(outputs, "SetupMissing", f"{', '.join(sorted(missing))} must come from the course's setup "
                                                   "cell, which had not run yet")
        else:
            in_cell[0] = True
            signal.setitimer(signal.ITIMER_REAL, limits["cell_seconds"])
            try:
                error = _execute(cell, shell, namespace, outputs, check_integrity)
            except CellTimeout as err:  # raised between the shell's own handlers
                error = _fail(outputs, "CellTimeout", str(err))
            finally:
                in_cell[0] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                checks.stop_watch()  # a check stopped at the limit leaves nothing of its own behind
            check_integrity()
            if cell["kind"] == "locked":
                originals.update({k: namespace[k] for k in guarded if k in namespace})
        send({"cell": i, "outputs": outputs.items, "error": error, "seconds": round(time.monotonic() - started, 3),
              "truncated": outputs.truncated})


def _fail(outputs: Outputs, ename: str, message: str) -> str:
    outputs.error(ename, message, [f"{ename}: {message}"])
    return ename


_GRADER_FILES = {__file__, guard.__file__, shells.__file__, protocol.__file__}


def _nothing() -> None:
    pass


def _execute(cell: dict, shell, namespace: dict, outputs: Outputs, guard_now) -> str | None:
    """Run one cell; the name of its error, or None.  Test cells run with NumPy's default error state."""
    if cell["kind"] == "test":
        _current["guard"] = guard_now  # checked after every call of a student's function by a check
        try:
            with _errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                return _exec_test(cell["source"], cell["grade_id"], namespace, outputs)
        finally:
            _current["guard"] = _nothing
    result = shell.run_cell(cell["source"], store_history=True)
    failure = result.error_before_exec or result.error_in_exec
    return type(failure).__name__ if failure is not None else None
