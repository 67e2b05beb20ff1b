"""How the course's computations run: normal or grading mode, and how many BLAS threads.

nbgrader sets the environment variable NBGRADER_EXECUTION (to "autograde" or
"validate") in the kernel it starts; students never have it set.  Heavy cells
then run a shorter schedule.

The matrices of this course are small (at most a few hundred rows), and on a
machine shared with other kernels (JupyterHub, a busy laptop, CI) a BLAS that
spreads each product over every core slows down several times while gaining
nothing on an idle one (``make bench`` measures both).  ``limit_threads`` keeps
BLAS to one thread; the environment variable COURSE_BLAS_THREADS overrides it.
"""
import os


def grading_mode() -> bool:
    """True while nbgrader executes the notebook."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def schedule(full, grading):
    """``full`` for students, ``grading`` (a shorter run) while nbgrader grades."""
    return grading if grading_mode() else full


def limit_threads() -> int:
    """Limit the BLAS of NumPy to COURSE_BLAS_THREADS threads (default 1); returns the limit."""
    import numpy  # noqa: F401 (loads the BLAS that threadpoolctl then finds)
    from threadpoolctl import threadpool_limits
    try:
        threads = max(1, int(os.environ.get("COURSE_BLAS_THREADS", "1")))
    except ValueError:
        raise ValueError("the environment variable COURSE_BLAS_THREADS must be a positive integer; received "
                         f"{os.environ['COURSE_BLAS_THREADS']!r}") from None
    threadpool_limits(limits=threads, user_api="blas")
    return threads
