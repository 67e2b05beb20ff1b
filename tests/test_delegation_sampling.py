"""The delegation detector on the exercises of 06_generation: the solution notebook's answers pass with the
detector on (beam search uses the provided tool select_columns, greedy decoding log_softmax); answers that
hand the work to helpers.sampling are caught."""
import nbformat
import numpy as np
import pytest

import helpers.checks as checks
from conftest import ROOT
from helpers import sampling
from helpers.activations import log_softmax
from helpers.checks import EXERCISES
from helpers.checks.framework import ReferenceDelegation

ASSIGNMENT = "06_generation"


def answers():
    """The functions of the solution notebook's answer cells, defined as the notebook defines them."""
    nb = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    ns = {"np": np, "log_softmax": log_softmax, "select_columns": sampling.select_columns}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            exec(compile(cell.source, "<ipython-input-1-answer>", "exec"), ns)
    return ns


@pytest.mark.parametrize("name", list(EXERCISES[ASSIGNMENT]))
def test_the_solutions_pass_with_the_detector_on(name, capsys):
    getattr(checks, f"check_{name}")(answers()[name], seed=9, hidden=True)
    assert capsys.readouterr().out.startswith(f"✓ {name}")


@pytest.mark.parametrize("name, source, callee", [
    ("generate", "def generate(step, state, start_ids, n_tokens, choose, rng):\n"
                 "    return sampling.generate(step, state, start_ids, n_tokens, choose, rng)\n", "generate"),
    ("beam_search", "from helpers.sampling import beam_search as search\n"
                    "def beam_search(step, state, start_ids, beam_width, max_len):\n"
                    "    return search(step, state, start_ids, beam_width, max_len)\n", "beam_search"),
    ("distinct_n", "def distinct_n(token_ids, n):\n"
                   "    return 1.0 - sampling.repetition_rate(token_ids, n) if token_ids.ndim == 1 else "
                   "len(np.unique(sampling._ngrams(token_ids, n, 'x').reshape(-1, n), axis=0)) / "
                   "sampling._ngrams(token_ids, n, 'x').reshape(-1, n).shape[0]\n", "_ngrams"),
    ("top_p_filter", "top_p_filter = sampling.top_p_filter\n", "top_p_filter"),
])
def test_handing_the_work_to_helpers_sampling_is_caught(name, source, callee):
    ns = {"np": np, "sampling": sampling}
    exec(compile(source, "<ipython-input-1-test>", "exec"), ns)
    with pytest.raises(ReferenceDelegation, match=rf"{name} calls helpers\.sampling\.{callee}"):
        getattr(checks, f"check_{name}")(ns[name])
