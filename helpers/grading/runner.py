"""Grading many submissions in parallel: one forked, isolated process each, with time limits.

``run_all(jobs, limits, workers)`` forks up to ``workers`` processes at a time
from the pre-warmed grader (``kernel.warm_up``) and reads their reports.  It
enforces the limits from outside, where the student's code cannot interfere:

* a cell that ignores its ``CellTimeout`` is killed ``grace`` seconds later;
* a process that dies in a cell (``os._exit``, a crash, the memory limit) is
  started again with that cell skipped (an error output says why), at most
  ``attempts`` times, so that the rest of the notebook is still graded;
* a notebook that exceeds ``notebook_seconds`` in total is stopped and its
  grading fails.
"""
from __future__ import annotations

import itertools
import json
import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field

from . import kernel

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
    died: list = field(default_factory=list)  # sentences: the process died in cell i ...
    failure: str | None = None
    seconds: float = 0.0


@dataclass
class _Run:
    key: tuple
    cells: list
    hidden: list
    outcome: Outcome
    skip: dict
    started: float
    pid: int = 0
    fd: int = -1
    buffer: bytes = b""
    current: int | None = None
    cell_deadline: float = 0.0
    timed_out: bool = False
    ended: bool = False
    attempt: int = 1


def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _start(state: dict, run: _Run, limits: Limits, workroot: str, others: list[int]) -> None:
    read, write = os.pipe()
    workdir = tempfile.mkdtemp(dir=workroot)
    os.chmod(workdir, 0o777)
    child_limits = {"cell_seconds": limits.cell_seconds, "notebook_seconds": int(limits.notebook_seconds),
                    "memory_bytes": _vm_bytes() + limits.memory_mb * 2**20, "output_bytes": limits.output_bytes,
                    "text_bytes": limits.text_bytes, "notebook_output_bytes": limits.notebook_output_bytes,
                    "workdir": workdir, "figures": limits.figures,
                    "uid": FIRST_UID + next(_serial) % 1_000_000}  # one user per process: none can signal another
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read)
            for fd in others:
                os.close(fd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        finally:
            kernel.run(state, run.cells, write, child_limits, run.skip, run.hidden + [workroot])
    os.close(write)
    run.pid, run.fd, run.buffer, run.current, run.ended, run.timed_out = pid, read, b"", None, False, False


def _read(run: _Run, limits: Limits) -> bool:
    """Read what the child sent; False at end of file."""
    try:
        data = os.read(run.fd, 1 << 20)
    except OSError:
        data = b""
    if not data:
        return False
    run.buffer += data
    *lines, run.buffer = run.buffer.split(b"\n")
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if "start" in message:
            run.current = message["start"]
            run.cell_deadline = time.monotonic() + limits.cell_seconds + limits.grace
        elif "cell" in message:
            run.outcome.cells[message["cell"]] = message
            run.current = None
        elif "flags" in message:
            run.outcome.flags.extend(f for f in message["flags"] if f not in run.outcome.flags)
        elif "isolation" in message:
            run.outcome.isolation = message["isolation"]
        elif "end" in message:
            run.ended = True
        elif "crash" in message:
            run.outcome.failure = f"the grader failed: {message['crash']}"
    return True


def _kill(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _finish(run: _Run, limits: Limits, pending: list) -> None:
    """The child exited: done, or start it again without the cell it died in."""
    _, status = os.waitpid(run.pid, 0)
    os.close(run.fd)
    outcome = run.outcome
    if run.ended or outcome.failure:
        return
    if time.monotonic() - run.started > limits.notebook_seconds:
        outcome.failure = f"grading took longer than the limit of {limits.notebook_seconds:g} s per notebook"
        return
    cell = run.current
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
        outcome.failure = f"the process running the notebook died {run.attempt} times; last: cell {cell}: {why}"
        return
    if not run.timed_out:
        outcome.died.append(f"cell {cell}: {why}; the notebook was run again without it")
    run.skip[cell] = why
    run.attempt += 1
    outcome.cells.clear()
    pending.insert(0, run)


def run_all(state: dict, jobs: list[tuple[tuple, list, list]], limits: Limits, workers: int,
            progress=None) -> dict[tuple, Outcome]:
    """Run every job (key, cells, hidden folders); returns key -> Outcome.  ``progress(outcome)`` after each."""
    pending = [_Run(key, cells, hidden, Outcome(key), {}, 0.0) for key, cells, hidden in jobs]
    running: dict[int, _Run] = {}
    done: dict[tuple, Outcome] = {}
    workroot = tempfile.mkdtemp(prefix="grading-")
    os.chmod(workroot, 0o711)
    try:
        while pending or running:
            while pending and len(running) < workers:
                run = pending.pop(0)
                if run.attempt == 1:
                    run.started = time.monotonic()
                _start(state, run, limits, workroot, [r.fd for r in running.values()])
                running[run.fd] = run
            ready, _, _ = select.select(list(running), [], [], 0.1)
            now = time.monotonic()
            for fd in ready:
                run = running[fd]
                if not _read(run, limits):
                    del running[fd]
                    _finish(run, limits, pending)
                    if run not in pending:
                        run.outcome.seconds = time.monotonic() - run.started
                        done[run.key] = run.outcome
                        if progress:
                            progress(run.outcome)
            for run in running.values():
                if now - run.started > limits.notebook_seconds:
                    _kill(run.pid)
                elif run.current is not None and now > run.cell_deadline and not run.timed_out:
                    run.timed_out = True
                    _kill(run.pid)
    finally:
        for run in running.values():
            _kill(run.pid)
        shutil.rmtree(workroot, ignore_errors=True)
    return done
