"""Progress bars for the training loops: a bar in Jupyter (an ipywidgets bar, through tqdm) or in a
terminal; none while nbgrader grades (the output would only fill the graded notebook)."""
from __future__ import annotations

from tqdm.auto import tqdm

from .runmode import grading_mode


def progress_bar(iterable=None, *, total: int | None = None, desc: str | None = None, enabled: bool = True):
    """``iterable`` wrapped in a tqdm progress bar labelled ``desc``; silent when ``enabled`` is False or
    while nbgrader grades.  Use ``bar.set_postfix_str(...)`` to show the latest loss."""
    return tqdm(iterable, total=total, desc=desc, disable=not enabled or grading_mode(), leave=True)
