"""What a student would see wrong in a notebook page, as a list of sentences (empty: nothing wrong).

Each function reads the state that ``Notebook.state()`` returns after Run All (or acts on the
page, for the explorers) and names the cell, by its number in the notebook and its nbgrader
grade_id, and what is wrong there.
"""
from __future__ import annotations

import re
import time

from helpers.checks.framework import CheckFailure

from .lab import Notebook

WIDGET = "application/vnd.jupyter.widget-view+json"
IMAGES = ("image/png", "image/jpeg", "image/svg+xml")
STDERR = "application/vnd.jupyter.stderr"
PROGRESS = re.compile(r"(\d+) of (\d+) exercises pass")
FIGURE_AS_TEXT = r"^<(Figure|matplotlib\.figure\.Figure)[^>]*>$"  # a matplotlib figure's repr


def _subclasses(cls) -> set:
    return {cls.__name__}.union(*(_subclasses(c) for c in cls.__subclasses__()))


#: the names of the exceptions a failing check raises (CheckFailure and its kinds: NotImplementedYet, ...)
CHECK_FAILURES = _subclasses(CheckFailure)


def where(cell) -> str:
    """'cell 12 (test_relu) `check_relu(relu)`': the cell's number, grade_id and first line."""
    gid = (cell["nbgrader"] or {}).get("grade_id")
    first = cell["source"].splitlines()[0][:60] if cell["source"].strip() else ""
    return f"cell {cell['index']}" + (f" ({gid})" if gid else "") + (f" `{first}`" if first else "")


def is_test(cell) -> bool:
    return bool((cell["nbgrader"] or {}).get("grade")) and not (cell["nbgrader"] or {}).get("solution")


def graded_cells(state) -> list:
    return [c for c in state["cells"] if is_test(c)]


def _figure_as_text(text: str) -> bool:
    return any(re.match(FIGURE_AS_TEXT, line.strip()) for line in text.splitlines())


def run_problems(state) -> list[str]:
    """Run All reached every code cell."""
    problems = [f"Run All failed: {state['runAllError']}"] if state["runAllError"] else []
    skipped = [c["index"] for c in state["cells"] if c["executionCount"] is None or c["pending"]]
    if skipped:
        problems.append(f"Run All stopped before the end: code cells {skipped} did not run")
    return problems


def rendering_problems(state, page_errors=()) -> list[str]:
    """Every widget is drawn as a widget, every figure as an image that loaded, every formula typeset;
    no error inside a widget; no uncaught error in the page's scripts."""
    problems = []
    for cell in state["cells"]:
        if len(cell["dom"]) != len(cell["outputs"]):
            problems.append(f"{where(cell)}: the notebook holds {len(cell['outputs'])} outputs, "
                            f"the page shows {len(cell['dom'])}")
        for out, shown in zip(cell["outputs"], cell["dom"]):
            if WIDGET in out["mimes"]:
                if shown["widgetError"]:
                    problems.append(f"{where(cell)}: a widget failed to render: {shown['text'][:200]!r}")
                elif not shown["widget"] or shown["mime"] == "text/plain":
                    problems.append(f"{where(cell)}: a widget shows as text, not as a widget: {shown['text'][:120]!r}")
            elif any(m in out["mimes"] for m in IMAGES):
                if not shown["images"] or not all(i["loaded"] for i in shown["images"]):
                    problems.append(f"{where(cell)}: a figure did not show as an image (page shows "
                                    f"{shown['mime']}: {shown['text'][:80]!r})")
            if shown["mime"] == STDERR and out["type"] not in ("error", "stream"):
                problems.append(f"{where(cell)}: an output failed to render: {shown['text'][:200]!r}")
            if _figure_as_text(shown["text"]) and not shown["images"]:
                problems.append(f"{where(cell)}: a figure shows as text: {shown['text'][:80]!r}")
        for inner in cell["nested"]:
            if inner["mime"] == STDERR:
                problems.append(f"{where(cell)}: error shown inside a widget: {inner['text'][:300]!r}")
            elif _figure_as_text(inner["text"]):
                problems.append(f"{where(cell)}: a figure inside a widget shows as text: {inner['text'][:80]!r}")
    if state["mathErrors"]:
        problems.append(f"{state['mathErrors']} formulas failed to typeset (MathJax errors)")
    problems += [f"script error in the page: {e[:300]}" for e in page_errors]
    return problems


def progress_of(state) -> tuple[int, int] | None:
    """(exercises passing, exercises) as the progress table at the end says, or None."""
    for cell in reversed(state["cells"]):
        for shown in cell["dom"]:
            match = PROGRESS.search(shown["text"])
            if match:
                return int(match.group(1)), int(match.group(2))
    return None


def _progress_problems(state, expected_passing: int) -> list[str]:
    tests = len(graded_cells(state))
    shown = progress_of(state)
    if shown is None:
        return ["the progress table did not show (no 'N of M exercises pass')"]
    if shown != (expected_passing, tests):
        return [f"the progress table says {shown[0]} of {shown[1]} exercises pass; "
                f"expected {expected_passing} of {tests} (the notebook has {tests} checks)"]
    return []


def student_problems(state, page_errors=()) -> list[str]:
    """The blank notebook after Run All: each check stops at its one-line message (no traceback),
    nothing else fails or writes to stderr, it renders, and the progress table shows 0 passing."""
    problems = run_problems(state) + rendering_problems(state, page_errors)
    if not graded_cells(state):
        problems.append("the notebook has no test cell (nbgrader grade cell)")
    for cell in state["cells"]:
        errors = [o for o in cell["outputs"] if o["type"] == "error"]
        stderr = [o for o in cell["outputs"] if o["type"] == "stream" and o["name"] == "stderr"]
        if stderr:
            problems.append(f"{where(cell)}: writes to stderr: {stderr[0]['text'][:200]!r}")
        if not is_test(cell):
            problems += [f"{where(cell)}: raises {o['ename']}: {o['evalue'][:200]}" for o in errors]
            continue
        if len(errors) != 1 or errors[0]["ename"] not in CHECK_FAILURES:
            problems.append(f"{where(cell)}: expected the check to fail with one CheckFailure; outputs "
                            f"{[(o['type'], o['ename']) for o in cell['outputs']]}")
            continue
        shown = [d for d in cell["dom"] if d["mime"] == STDERR]
        lines = shown[0]["text"].strip().splitlines() if shown else []
        # the message alone: one line, which the checks wrap between words (continuations are indented)
        if not lines or any(not line.startswith("  ") for line in lines[1:]) or "Traceback" in shown[0]["text"]:
            problems.append(f"{where(cell)}: the failed check shows {len(lines)} lines, not its one-line "
                            f"message: {shown[0]['text'][:300] if shown else ''!r}")
    return problems + _progress_problems(state, 0)


def solution_problems(state, page_errors=()) -> list[str]:
    """The solved notebook after Run All: no error output, nothing on stderr, every check prints its
    success line, it renders (with at least one figure or widget), and every exercise passes."""
    problems = run_problems(state) + rendering_problems(state, page_errors)
    for cell in state["cells"]:
        for o in cell["outputs"]:
            if o["type"] == "error":
                problems.append(f"{where(cell)}: raises {o['ename']}: {(o['evalue'] or '')[:300]}")
            elif o["type"] == "stream" and o["name"] == "stderr":
                problems.append(f"{where(cell)}: writes to stderr: {o['text'][:300]!r}")
        if is_test(cell) and not any(o["type"] == "stream" and "✓" in o["text"] for o in cell["outputs"]):
            problems.append(f"{where(cell)}: the check did not print its success line")
    if not any(d["images"] or d["widget"] for c in state["cells"] for d in c["dom"]):
        problems.append("the notebook shows no figure and no widget")
    return problems + _progress_problems(state, len(graded_cells(state)))


def explorer_problems(nb: Notebook, timeout: float = 30) -> tuple[list[str], list[str]]:
    """Move one control of each explorer (a slider where it has one) and wait for what it shows (its
    figure, or the text printed under it) to change and settle, with a figure still shown.  Returns
    (problems, what was done); an explorer whose control the test cannot move is a problem, so a new
    kind of explorer is never passed over."""
    problems, done = [], []
    explorers = nb.explorers()
    for k, explorer in enumerate(explorers, 1):
        before = nb.output_of(explorer)
        if before is None:
            problems.append(f"explorer {k} of {len(explorers)} shows no figure before it is touched")
            continue
        action = nb.move_first_control(explorer)
        if action is None:
            problems.append(f"explorer {k} of {len(explorers)} has no slider, menu, button, check box or text box "
                            "that the test knows how to move")
            continue
        errors = explorer.locator(f'.widget-output .jp-OutputArea-output[data-mime-type="{STDERR}"]')
        deadline = time.monotonic() + timeout
        after, settled = before, 0
        while time.monotonic() < deadline and settled < 3 and not errors.count():
            time.sleep(0.3)
            now = nb.output_of(explorer)
            settled = settled + 1 if now == after and now not in (before, None) else 0
            after = now
        if errors.count():
            problems.append(f"explorer {k}: {action}: error shown: {errors.first.inner_text()[:300]!r}")
        elif after in (before, None):
            problems.append(f"explorer {k}: {action}: the figure and the text printed under it "
                            f"did not change within {timeout:.0f} s (or the figure disappeared)")
        done.append(f"explorer {k}: {action}: " + ("output changed" if after not in (before, None) else "no change"))
    return problems, done


def validation_problems(result: dict, failing_tests: int) -> list[str]:
    """nbgrader's Validate dialog: success when no test should fail, else exactly the failing tests."""
    if result["title"] != "Validation Results":
        return [f"Validate showed {result['title']!r}: {result['text'][:500]}"]
    if failing_tests == 0:
        return [] if result["success"] and not result["failed"] else [
            f"Validate did not report success: {result['text'][:800]}"]
    if result["success"] or result["failed"] != failing_tests:
        return [f"Validate listed {result['failed']} failing cells, expected {failing_tests}: {result['text'][:500]}"]
    return []
