"""helpers.checks.gates (the checks of 05_lstm_gru): every check passes the reference and the notebook's own
solutions (whose caches are the exercise's simpler ones) with one line and nothing on stderr, visible and
hidden, for several seeds and the notebook's; the hidden tests add cases; each realistic mistake of the issue
fails with its specific message (gate by gate for the backward passes); generic failures."""
import re

import nbformat
import numpy as np
import pytest
from conftest import ROOT, one_success_line

from helpers.activations import sigmoid
from helpers.checks import EXERCISES, CheckFailure
from helpers.checks.gates import gate_summary
from mistakes import MISTAKES as GRADING_MISTAKES

ASSIGNMENT = "05_lstm_gru"
# wrong answers here are built on the reference: the delegation detector has its own tests
pytestmark = pytest.mark.usefixtures("without_delegation_check")

REFERENCE = {name: e.reference for name, e in EXERCISES[ASSIGNMENT].items()}
CHECKS = {name: e.check for name, e in EXERCISES[ASSIGNMENT].items()}


def answer_sources():
    """grade_id -> the solution notebook's answer, without the solution markers."""
    nb = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    return {c.metadata["nbgrader"]["grade_id"]: "\n".join(line for line in c.source.splitlines()
                                                           if "### BEGIN SOLUTION" not in line
                                                           and "### END SOLUTION" not in line)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


SOURCES = answer_sources()


def notebook_functions(replace=None):
    """The notebook's answers as functions in one namespace (as in the kernel), with some sources replaced."""
    namespace = {"np": np, "sigmoid": sigmoid}
    for name, source in {**SOURCES, **(replace or {})}.items():
        exec(source, namespace)
    return namespace


SOLVED = notebook_functions()


def with_change(name, old, new):
    """The notebook's ``name`` with ``old`` replaced by ``new`` in its source (the replacement must apply)."""
    source = SOURCES[name]
    assert old in source, f"{old!r} is not in the solution of {name}"
    return notebook_functions({name: source.replace(old, new)})[name]


# ---------------------------------------------------------------- correct answers pass


@pytest.mark.parametrize("name", list(REFERENCE))
@pytest.mark.parametrize("seed, hidden", [(0, False), (3, True), (None, True)])
def test_the_notebooks_solution_passes_with_one_line(name, seed, hidden, capfd):
    seed = 500 + list(REFERENCE).index(name) + 1 if seed is None else seed      # the notebook's hidden seed
    CHECKS[name](SOLVED[name], seed=seed, hidden=hidden)
    one_success_line(capfd, name)


def test_the_notebook_declares_the_exercises_in_order_with_100_points():
    assert list(EXERCISES[ASSIGNMENT]) == list(SOURCES)
    assert sum(e.points for e in EXERCISES[ASSIGNMENT].values()) == 100


# ---------------------------------------------------------------- the usual mistakes, each with its message

MISTAKES = [
    # (exercise, old, new, expected in the message, caught by the visible check)
    ("lstm_step_forward", "h = o * np.tanh(c)", "h = o * c",
     r"h_t = o_t ⊙ tanh\(C_t\): you returned o_t ⊙ C_t, without the tanh", True),
    ("lstm_step_forward", "c = f * c_prev + i * c_tilde", "c = f * c_prev + c_tilde",
     r"the input gate i_t must scale the candidate", True),
    ("lstm_step_forward", 'f = sigmoid(p["W_f"] @ h_prev + p["U_f"] @ x + p["b_f"])',
     'f = sigmoid(p["W_f"] @ h_prev + p["U_f"] @ x)',
     r"your cache shows the forget gate f_t wrong .*while the input gate i_t, the output gate o_t and the "
     r"candidate cell C~_t are right", True),
    ("lstm_step_forward", 'c_tilde = np.tanh(p["W_c"]', 'c_tilde = sigmoid(p["W_c"]',
     r"the candidate uses tanh", True),
    ("lstm_step_forward", '"c": c,', '"c": np.tanh(c),', r"store the cell C_t itself in cache\['c'\]", True),
    ("lstm_step_forward", 'p["W_f"] @ h_prev + p["U_f"] @ x', 'p["U_f"] @ h_prev + p["W_f"] @ x',
     r"W_\* \(H, H\) multiplies h_\{t-1\}", True),
    ("lstm_step_backward", "return dx, dh_prev, dc * f, grads", "return dx, dh_prev, dc, grads",
     r"^dc_prev is wrong; dx and dh_prev are right; every parameter gradient is right\.(.|\n)*"
     r"the gradient into C_\{t-1\} misses the forget gate", True),
    ("lstm_step_backward", "dc = dc + dh * o * (1 - tanh_c ** 2)", "dc = dc",
     r"the path through h_t = o_t ⊙ tanh\(C_t\), dh ⊙ o_t ⊙ \(1 - tanh\(C_t\)\^2\)", True),
    ("lstm_step_backward", '"f": dc * c_prev * f * (1 - f)', '"f": dc * cache["c"] * f * (1 - f)',
     r"^The forget gate's gradients dW_f, dU_f and db_f are wrong; dW_i, dW_o and dW_c are right(.|\n)*"
     r"δ_f = dJ/dC_t ⊙ C_\{t-1\}", True),
    ("lstm_step_backward", "dc = dc + dh * o * (1 - tanh_c ** 2)", "dc = dc + dh * o * (1 - cache['c'] ** 2)",
     r"1 - tanh\(C_t\)\^2, not 1 - C_t\^2", True),
    ("lstm_step_backward", 'grads[f"b_{g}"] = delta.sum(axis=1, keepdims=True)', 'grads[f"b_{g}"] = delta',
     r"db_\* has the shape of b_\*, \(H, 1\)", True),
    ("lstm_forward", "h, c, step_cache = lstm_step_forward(x, h, c, params)",
     "h, _, step_cache = lstm_step_forward(x, h, c, params)", r"C_t is not carried to the next step", True),
    ("lstm_forward", "np.zeros_like(h0) if c0 is None else c0", "np.zeros_like(h0)", r"c0 is not used", True),
    ("lstm_forward", "def lstm_forward(xs, h0, params, c0=None):", "def lstm_forward(xs, h0, params):\n    c0 = None",
     r"the signature is lstm_forward\(xs, h0, params, c0=None\)", True),
    ("lstm_forward", "return np.stack(hs), cache", "return np.stack(hs), cache[::-1]",
     r"cache\[0\] returned by lstm_forward must be the cache of step 1", True),
    ("lstm_backward", "lstm_step_backward(dhs[t] + dh_next, dc_next, cache[t])",
     "lstm_step_backward(dhs[t] + dh_next, 0 * dc_next, cache[t])", r"dc from the next step is not added", True),
    ("lstm_backward", "lstm_step_backward(dhs[t] + dh_next, dc_next, cache[t])",
     "lstm_step_backward(dhs[t], dc_next, cache[t])", r"dJ/dh_t from the next step is not added", True),
    ("lstm_backward", "grads = step_grads if grads is None else {k: grads[k] + step_grads[k] for k in grads}",
     "grads = step_grads", r"their gradients are sums over the steps", True),
    ("gru_step_forward", "h = (1 - z) * h_prev + z * h_tilde", "h = z * h_prev + (1 - z) * h_tilde",
     r"z_t and 1 - z_t are swapped.*PyTorch's nn.GRU swaps the two", True),
    ("gru_step_forward", 'np.tanh(p["W_h"] @ (r * h_prev)', 'np.tanh(r * (p["W_h"] @ h_prev)',
     r"the reset gate is applied after W_h", True),
    ("gru_step_forward", 'np.tanh(p["W_h"] @ (r * h_prev)', 'np.tanh(p["W_h"] @ h_prev',
     r"the reset gate is missing", True),
    ("gru_step_backward", "dh_prev = dh * (1 - z) + d_rh * r +", "dh_prev = d_rh * r +",
     r"^dh_prev is wrong; dx is right; every parameter gradient is right\.(.|\n)*misses the direct path", True),
    ("gru_step_backward", '("h", delta_h, r * h_prev)', '("h", delta_h, h_prev)',
     r"^The candidate's gradient dW_h is wrong \(dU_h and db_h are right\); dW_z and dW_r are right(.|\n)*"
     r"dW_h = δ_h \(r_t ⊙ h_\{t-1\}\)\^T", True),
    ("gru_step_backward", "delta_z = dh * (h_tilde - h_prev)", "delta_z = dh * (h_prev - h_tilde)",
     r"^The update gate's gradients dW_z, dU_z and db_z are wrong(.|\n)*your sign is flipped", True),
    ("gru_forward", "h, step_cache = gru_step_forward(x, h, params)",
     "_, step_cache = gru_step_forward(x, h, params)", r"every hs\[t\] equals h0", True),
    ("gru_backward", "gru_step_backward(dhs[t] + dh_next, cache[t])", "gru_step_backward(dhs[t], cache[t])",
     r"dJ/dh_t from the next step is not added", True),
    ("count_parameters", "return blocks * H * (D + H + 1)", "return blocks * H * (D + H)",
     r"each block has a bias too", True),
    ("count_parameters", '"gru": 3', '"gru": 4', r"the GRU 3 \(z, r, h~\).*you counted 4 for the GRU", True),
    ("bidirectional_forward", "np.concatenate([hs_fw, hs_bw[::-1]], axis=1)",
     "np.concatenate([hs_fw, hs_bw], axis=1)", r"outputs are not reversed back into time order", True),
    ("bidirectional_forward", "cell.forward(xs[::-1], None, params_bw)", "cell.forward(xs, None, params_bw)",
     r"must read the sequence reversed, x_T first", True),
    ("bidirectional_forward", "(cell, cache_fw, cache_bw, hs_fw.shape[1])", "(cell, cache_bw, cache_fw, hs_fw.shape[1])",
     r"cache\[1\] and cache\[2\] .* in that order", True),
    ("bidirectional_backward", "cell.backward(dhs[::-1, H_fw:], cache_bw)", "cell.backward(dhs[:, H_fw:], cache_bw)",
     r"its dJ/dh_t must be reversed too", True),
    ("bidirectional_backward", "return dxs_fw + dxs_bw[::-1]", "return dxs_fw + dxs_bw",
     r"the backward direction's dxs are in reversed time order", True),
    ("bidirectional_backward", "cell, cache_fw, cache_bw, H_fw = cache",
     "cell, cache_fw, cache_bw, _ = cache\n    H_fw = dhs.shape[1] // 2", r"H_fw = cache\[3\]", False),
]


@pytest.mark.parametrize("name, old, new, message, shown", MISTAKES, ids=[f"{m[0]}: {m[2][:40]}" for m in MISTAKES])
def test_each_usual_mistake_fails_with_its_message(name, old, new, message, shown, capfd):
    wrong = with_change(name, old, new)
    if not shown:
        CHECKS[name](wrong)
        one_success_line(capfd, name)
    with pytest.raises(CheckFailure) as failure:
        CHECKS[name](wrong, seed=500 + list(REFERENCE).index(name) + 1, hidden=True)
    assert re.search(message, str(failure.value)), str(failure.value)
    if shown:
        with pytest.raises(CheckFailure):
            CHECKS[name](wrong)


def test_the_grading_mistakes_are_real_mistakes():
    """tests/mistakes.py's wrong answers of 05 fail their checks, visible or only hidden as declared."""
    assert len(GRADING_MISTAKES[ASSIGNMENT]) >= 3
    assert any(not shown for _, _, shown in GRADING_MISTAKES[ASSIGNMENT].values())
    for gid, source, shown in GRADING_MISTAKES[ASSIGNMENT].values():
        wrong = notebook_functions({gid: source})[gid]
        if shown:
            with pytest.raises(CheckFailure):
                CHECKS[gid](wrong)
        else:
            CHECKS[gid](wrong)
        with pytest.raises(CheckFailure):
            CHECKS[gid](wrong, seed=500 + list(REFERENCE).index(gid) + 1, hidden=True)


# ---------------------------------------------------------------- the wording of a gate-by-gate report


def test_gate_summary_names_the_wrong_gate_and_the_right_ones():
    keys = ["dx", "dh_prev", "dc_prev"] + [f"d{k}_{g}" for g in "fioc" for k in "WUb"]
    assert gate_summary(["dW_f"], keys, tuple("fioc")) == (
        "The forget gate's gradient dW_f is wrong (dU_f and db_f are right); dW_i, dW_o and dW_c are right (and "
        "their dU and db); dx, dh_prev and dc_prev are right.")
    assert gate_summary(["dc_prev"], keys, tuple("fioc")) == (
        "dc_prev is wrong; dx and dh_prev are right; every parameter gradient is right.")
    both = gate_summary(["dW_z", "dU_z", "db_z", "dW_h"], ["dx", "dh_prev"] + [f"d{k}_{g}" for g in "zrh" for k in "WUb"],
                        tuple("zrh"))
    assert both.startswith("The update gate's gradients dW_z, dU_z and db_z are wrong; the candidate's gradient dW_h "
                           "is wrong (dU_h and db_h are right); dW_r is right (and its dU and db)")


# ---------------------------------------------------------------- generic failures


@pytest.mark.parametrize("name, returned, message", [
    ("lstm_step_forward", lambda *a: None, r"returned None"),
    ("lstm_step_forward", lambda x, h, c, p: (h, c), r"must return \(h, c, cache\)"),
    ("lstm_step_forward", lambda *a: SOLVED["lstm_step_forward"](*a)[:2] + ((a[0], a[1]),), r"must be a dict with the keys"),
    ("lstm_step_backward", lambda dh, dc, cache: (dh, dh, dc, {}), r"lacks the keys \['W_f'"),
    ("gru_step_backward", lambda dh, cache: (dh, dh, [1]), r"as a dict with the keys of params"),
    ("bidirectional_forward", lambda *a: (SOLVED["bidirectional_forward"](*a)[0], None),
     r"must be the tuple \(cell, cache_fw, cache_bw"),
    ("count_parameters", lambda cell, D, H: "32", r"must return a number"),
])
def test_malformed_results_are_explained(name, returned, message):
    with pytest.raises(CheckFailure, match=message):
        CHECKS[name](returned)


def test_changing_an_input_in_place_is_reported():
    def lstm_step_forward(x, h_prev, c_prev, params):
        h, c, cache = SOLVED["lstm_step_forward"](x, h_prev, c_prev, params)
        c_prev *= 0.0
        return h, c, cache
    with pytest.raises(CheckFailure, match=r"changed the values of an array it was given"):
        CHECKS["lstm_step_forward"](lstm_step_forward)
