"""Grading many submissions in parallel: one forked, isolated process each, with time limits.

``run_all(jobs, limits, workers)`` forks up to ``workers`` processes at a time
from the pre-warmed grader (``kernel.warm_up``) and reads their reports.  It
enforces the limits from outside, where the student's code cannot interfere:

* a cell that ignores its ``CellTimeout`` is killed ``grace`` seconds later;
* a process that dies in a cell (``os._exit``, a crash, the memory limit) is
  started again with that cell skipped (an error output says why), at most
  ``attempts`` times, so that the rest of the notebook is still graded;
* a notebook that exceeds ``notebook_seconds`` in total is stopped; the cells
  that finished keep their results (``Outcome.stopped`` says where it stopped).
"""
from __future__ import annotations

import itertools
import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field

from . import kernel, protocol

MAX_NEUTRALISED = 50
FIRST_UID = 2_000_000  # unprivileged user ids of the grading processes (when the grader runs as root)
_serial = itertools.count()


@dataclass
class Limits:
    cell_seconds: float = 30.0
    notebook_seconds: float = 300.0
    memory_mb: int = 2048  # on top of what the pre-warmed grader already uses
    output_bytes: int = 2_000_000  # per cell, figures included
    text_bytes: int = 100_000  # printed text per cell
    notebook_output_bytes: int = 20_000_000
    grace: float = 3.0
    figures: bool = False  # render figures into the graded notebook and the feedback
    attempts: int = 3


@dataclass
class Outcome:
    """What happened when one submission ran."""

    key: tuple
    cells: dict = field(default_factory=dict)  # index -> {"outputs", "error", "seconds", "truncated"}
    flags: list = field(default_factory=list)  # tampering, from the guard
    isolation: list = field(default_factory=list)
    died: list = field(default_factory=list)  # (cell index, why): the process died there; run again without it
    timed_out: list = field(default_factory=list)  # (cell index, why): killed after ignoring its time limit
    neutralised: list = field(default_factory=list)  # (cell index, line, how): lines not run as written
    stopped: int | None = None  # the notebook limit struck: the index of the cell it stopped (-1: between cells)
    failure: str | None = None
    failure_cell: int | None = None  # the cell the failure happened in, if any
    seconds: float = 0.0


@dataclass
class _Run:
    key: object
    outcome: Outcome
    skip: dict = field(default_factory=dict)
    started: float = 0.0
    pid: int = 0
    fd: int = -1
    buffer: bytes = b""
    cell_deadline: float = 0.0
    timed_out: bool = False
    out_of_time: bool = False  # the notebook's own limit struck
    ended: bool = False
    attempt: int = 1
    secret: bytes = b""  # signs the report of the current attempt
    sequence: object = None  # protocol.Sequence of the current attempt


def _vm_bytes() -> int:
    """The address space the pre-warmed grader already uses (0 where /proc does not exist)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        return 0


def _start(state: dict, run: _Run, job: tuple, limits: Limits, workroot: str, hidden: list[str],
           others: list[int]) -> None:
    """Fork the process that runs ``job`` (cells, files handed in beside the notebook); the caller drops
    ``job`` right after, so that no later fork carries this student's code."""
    cells, files = job
    read, write = os.pipe()
    workdir = tempfile.mkdtemp(dir=workroot)
    os.chmod(workdir, 0o777)
    run.secret, run.sequence = protocol.new_key(), protocol.Sequence([c["index"] for c in cells])
    child_limits = {"cell_seconds": limits.cell_seconds, "notebook_seconds": int(limits.notebook_seconds),
                    "memory_bytes": _vm_bytes() + limits.memory_mb * 2**20, "output_bytes": limits.output_bytes,
                    "text_bytes": limits.text_bytes, "notebook_output_bytes": limits.notebook_output_bytes,
                    "workdir": workdir, "figures": limits.figures, "key": run.secret.hex(),
                    "uid": FIRST_UID + next(_serial) % 1_000_000}  # one user per process: none can signal another
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        raise
    if pid == 0:  # the child: never returns
        try:
            os.close(read)
            for fd in others:
                os.close(fd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        finally:
            kernel.run(state, cells, write, child_limits, run.skip, hidden, files)
    os.close(write)
    run.pid, run.fd, run.buffer, run.ended, run.timed_out = pid, read, b"", False, False


def _read(run: _Run, limits: Limits) -> bool:
    """Read what the child sent; False at end of file.  A report the grader did not write fails the run."""
    try:
        data = os.read(run.fd, 1 << 20)
    except OSError:
        data = b""
    if not data:
        return False
    run.buffer += data
    *lines, run.buffer = run.buffer.split(b"\n")
    try:
        if len(run.buffer) > protocol.MAX_LINE:
            raise protocol.ProtocolError("an oversized line")
        for line in lines:
            _receive(run, protocol.parse(run.secret, line), limits)
    except (protocol.ProtocolError, ValueError, KeyError, TypeError) as err:
        run.outcome.failure = (f"the report of the process running the notebook was not written by the grader "
                               f"({err}): the submission tampered with it")
        _kill(run.pid)
    return True


def _receive(run: _Run, message: dict, limits: Limits) -> None:
    run.sequence.check(message)
    if "start" in message:
        run.cell_deadline = time.monotonic() + limits.cell_seconds + limits.grace
    elif "cell" in message:
        run.outcome.cells[message["cell"]] = message
    elif "flags" in message:
        run.outcome.flags.extend(f for f in message["flags"] if f not in run.outcome.flags)
    elif "neutralised" in message:
        if len(run.outcome.neutralised) < MAX_NEUTRALISED:
            run.outcome.neutralised.append(tuple(message["neutralised"]))
    elif "isolation" in message:
        run.outcome.isolation = message["isolation"]
    elif "end" in message:
        run.ended = True
    elif "crash" in message:
        run.outcome.failure = f"the grader failed: {message['crash']}"


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _finish(run: _Run, limits: Limits, pending: list) -> None:
    """The child closed its report: reap it (killed first: a process that closed the pipe and went on
    must not block the grader), then done, or start it again without the cell it died in."""
    os.close(run.fd)
    if not run.ended:
        _kill(run.pid)
    _, status = os.waitpid(run.pid, 0)
    outcome = run.outcome
    if run.ended or outcome.failure:
        return
    cell = run.sequence.current  # the cell that started and did not finish
    if run.out_of_time or time.monotonic() - run.started > limits.notebook_seconds:
        outcome.stopped = -1 if cell is None else cell  # what finished keeps its result
        return
    if run.timed_out:
        why = f"the cell ignored its {limits.cell_seconds:g} s time limit and was stopped"
    elif os.WIFSIGNALED(status):
        why = f"the process running the notebook was killed by signal {os.WTERMSIG(status)} in this cell " \
              "(memory limit, or a crash)"
    else:
        why = f"the process running the notebook exited with code {os.WEXITSTATUS(status)} in this cell"
    if cell is None:
        outcome.failure = f"the process running the notebook ended outside any cell ({why})"
        return
    if run.attempt >= limits.attempts:
        outcome.failure, outcome.failure_cell = f"the process running the notebook died {run.attempt} times; " \
                                                f"the last time: {why}", cell
        return
    (outcome.timed_out if run.timed_out else outcome.died).append((cell, why))
    run.skip[cell] = why
    run.attempt += 1
    outcome.cells.clear()
    pending.insert(0, run)  # its cells are prepared again when it restarts


def run_all(state: dict, keys: list, cells_of, limits: Limits, workers: int, hidden: list[str], done) -> None:
    """Run the submission of every key: ``cells_of(key)`` gives its (cells, files) (None: nothing to run),
    ``done(key, outcome)`` receives each result (outcome None when there was nothing to run).
    ``hidden``: folders and files the submissions must not see."""
    pending = [_Run(key, Outcome(key)) for key in keys]
    running: dict[int, _Run] = {}
    workroot = tempfile.mkdtemp(prefix="grading-")
    os.chmod(workroot, 0o711)
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                run = pending.pop(0)
                job = cells_of(run.key)
                if job is None:
                    done(run.key, None)
                    continue
                if run.attempt == 1:
                    run.started = time.monotonic()
                _start(state, run, job, limits, workroot, hidden, [r.fd for r in running.values()])
                del job
                running[run.fd] = run
            if not running:
                continue
            ready, _, _ = select.select(list(running), [], [], 0.1)
            now = time.monotonic()
            for fd in ready:
                run = running[fd]
                if not _read(run, limits):
                    del running[fd]
                    _finish(run, limits, pending)
                    if run not in pending:
                        run.outcome.seconds = time.monotonic() - run.started
                        done(run.key, run.outcome)
            for run in running.values():
                if now - run.started > limits.notebook_seconds:
                    run.out_of_time = True
                    _kill(run.pid)
                elif run.sequence.current is not None and now > run.cell_deadline and not run.timed_out:
                    run.timed_out = True
                    _kill(run.pid)
    finally:
        for run in running.values():
            _kill(run.pid)
            os.waitpid(run.pid, 0)
        shutil.rmtree(workroot, ignore_errors=True)
