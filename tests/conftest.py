"""Test setup: Jupyter, IPython and matplotlib keep their state in a temporary folder,
and subprocesses (nbgrader, kernels) find the tools of the running Python."""
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_STATE = Path(tempfile.mkdtemp(prefix="course-test-state-"))
atexit.register(shutil.rmtree, _STATE, ignore_errors=True)
for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
    os.environ[var] = str(_STATE / var.lower())
os.environ["MPLBACKEND"] = "Agg"
os.environ.pop("NBGRADER_EXECUTION", None)
# nbgrader runs `alembic` and kernels from the environment's bin folder
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def assignments():
    """The assignment names, one per folder of solutions/."""
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())


@pytest.fixture(scope="session")
def root():
    return ROOT
