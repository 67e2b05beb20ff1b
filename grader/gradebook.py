"""``make grade``'s results in nbgrader's gradebook, so that formgrader and ``nbgrader export`` see them.

* ``course(root)``: nbgrader's ``CourseDirectory`` of the course, configured by its
  ``nbgrader_config.py``: its ``db_url`` (nbgrader's default
  ``sqlite:///<course root>/gradebook.db``), ``course_id`` and ``ignore`` list.
* ``register(db_url, course_id, assignment, release, source)``: the assignment and
  its cells, recorded by nbgrader's own ``SaveCells`` preprocessor on the notebook
  that ``nbgrader generate_assignment`` records (the release with the
  instructor's test cells, hidden tests included): running it again, or after
  ``make notebooks``, changes nothing.
* ``record(db_url, course_id, assignment, grades)``: students, submissions, and
  each test cell's ``auto_score`` as ``make grade`` scored it (its own rule: a test
  cell earns its points when it ran without an error; stderr output does not cost
  them, unlike nbgrader's ``determine_grade``).  The cells of a ``needs_review``
  submission that the review concerns, and every cell of a ``failed`` one (no
  score), are marked ``needs_manual_grade``, which formgrader lists for manual
  grading.  A manual score an instructor already gave is kept, and keeps its cell
  marked, as nbgrader's ``SaveAutoGrades`` does.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings


class GradebookError(Exception):
    """The gradebook cannot be opened or does not accept this assignment."""


def course(root: str):
    """nbgrader's CourseDirectory of the course at ``root``, with the settings of its nbgrader_config.py."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader
    config = Config()
    if os.path.isfile(os.path.join(root, "nbgrader_config.py")):
        config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    return CourseDirectory(config=config, root=os.path.abspath(root))


def sqlite_file(db_url: str) -> str | None:
    """The database file of a ``sqlite:///`` URL (None for other databases and in-memory ones)."""
    from sqlalchemy.engine import make_url
    url = make_url(db_url)
    return os.path.abspath(url.database) if url.get_backend_name() == "sqlite" and url.database and \
        url.database != ":memory:" else None


@contextlib.contextmanager
def _opened(db_url: str, course_id: str):
    """nbgrader's Gradebook, closed afterwards (a grading process must never inherit its connection).
    A new database is stamped by nbgrader with the ``alembic`` command of this Python's environment."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission with SQLAlchemy 2
        try:
            book = Gradebook(db_url, course_id)
        except Exception as err:
            raise GradebookError(f"the gradebook {db_url} could not be opened ({type(err).__name__}: {err}); "
                                 "choose another with --gradebook URL") from err
        try:
            yield book
        finally:
            book.close()


def register(db_url: str, course_id: str, assignment: str, release, source) -> None:
    """Record the assignment and its cells as ``nbgrader generate_assignment`` does (see the module docstring)."""
    from nbgrader.preprocessors import ComputeChecksums, SaveCells

    from .preflight import with_hidden_tests
    with _opened(db_url, course_id) as book:
        book.update_or_create_assignment(assignment)
    resources = {"nbgrader": {"notebook": assignment, "assignment": assignment, "db_url": db_url}}
    nb, _ = ComputeChecksums().preprocess(with_hidden_tests(release, source), resources)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            SaveCells().preprocess(nb, resources)
    except RuntimeError as err:  # the release's cells changed since submissions were recorded
        raise GradebookError(f"the gradebook {db_url} holds submissions of {assignment} for other cells than the "
                             f"release has ({err}); use another --gradebook, or remove the assignment from it "
                             f"(`nbgrader db assignment remove {assignment}`)") from err
    with _opened(db_url, "default_course"):  # GetGrades (feedback) opens the gradebook with nbgrader's default
        pass  # course: create it once here, not from several feedback processes at a time


def record(db_url: str, course_id: str, assignment: str, grades: list) -> None:
    """Write every Grade (student, submission, a score per test cell, cells to review) into the gradebook."""
    from nbgrader.api import MissingEntry
    with _opened(db_url, course_id) as book:
        for g in grades:
            book.update_or_create_student(g.student_id)
            try:
                book.find_submission(assignment, g.student_id)
            except MissingEntry:
                book.add_submission(assignment, g.student_id)
            for cell, score in g.cells.items():
                grade = book.find_grade(cell, assignment, assignment, g.student_id)
                grade.auto_score = score
                grade.needs_manual_grade = score is None or cell in g.review_cells or grade.manual_score is not None
            book.db.commit()
