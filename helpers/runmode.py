"""Normal or grading mode: heavy cells run a shorter schedule while nbgrader grades.

nbgrader sets the environment variable NBGRADER_EXECUTION (to "autograde" or
"validate") in the kernel it starts; students never have it set.
"""
import os


def grading_mode() -> bool:
    """True while nbgrader executes the notebook."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def schedule(full, grading):
    """``full`` for students, ``grading`` (a shorter run) while nbgrader grades."""
    return grading if grading_mode() else full
