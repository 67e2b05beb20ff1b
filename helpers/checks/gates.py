"""Checks for the exercises of 05_lstm_gru: the LSTM and the GRU, one step and a whole sequence, forward
and backward; the parameter count of a layer; the bidirectional wrapper over any cell.

The exercises' caches are the notebook's own, simpler than the reference's (which stacks the gates for
speed):

- a step's cache is a dict: LSTM ``{"x", "h_prev", "c_prev", "f", "i", "o", "c_tilde", "c", "params"}``,
  GRU ``{"x", "h_prev", "z", "r", "h_tilde", "params"}``;
- a sequence's cache is the list of its T step caches, in time order;
- a bidirectional layer's cache is ``(cell, cache_fw, cache_bw, H_fw)`` (the reference's too).

A backward check builds its cache from the reference's values, and compares the student's gradients
with the reference's; a mismatch is reported gate by gate ("the forget gate's gradient dW_f is wrong;
...").  The checks of the sequence functions run with the reference step functions (so a mistake in a
step is counted once), and the hidden tests compare every backward pass with central differences.
"""
from __future__ import annotations

import numpy as np

from .. import bidirectional as bi
from .. import cells as cells_module
from .. import gru, lstm
from ..activations import sigmoid
from ..cells import CELLS
from .exercises import exercise
from .framework import (Case, CheckFailure, first_hint, call_student, check_gradients, close, compare, passed,
                        require_function, require_returned, using_reference)

ASSIGNMENT = "05_lstm_gru"

LSTM_GATES, GRU_GATES = lstm.GATES, gru.GATES
LSTM_CACHE = ("x", "h_prev", "c_prev", "f", "i", "o", "c_tilde", "c", "params")
GRU_CACHE = ("x", "h_prev", "z", "r", "h_tilde", "params")
GATE = {"f": "the forget gate f_t", "i": "the input gate i_t", "o": "the output gate o_t",
        "c": "the candidate cell C~_t", "z": "the update gate z_t", "r": "the reset gate r_t",
        "h": "the candidate h~_t"}
OWNER = {"f": "the forget gate's", "i": "the input gate's", "o": "the output gate's", "c": "the candidate cell's",
         "z": "the update gate's", "r": "the reset gate's", "h": "the candidate's"}
FORMULA = {"f": "f_t = σ(W_f h_{t-1} + U_f x_t + b_f)", "i": "i_t = σ(W_i h_{t-1} + U_i x_t + b_i)",
           "o": "o_t = σ(W_o h_{t-1} + U_o x_t + b_o)", "c": "C~_t = tanh(W_c h_{t-1} + U_c x_t + b_c)",
           "z": "z_t = σ(W_z h_{t-1} + U_z x_t + b_z)", "r": "r_t = σ(W_r h_{t-1} + U_r x_t + b_r)",
           "h": "h~_t = tanh(W_h (r_t ⊙ h_{t-1}) + U_h x_t + b_h)"}
ACT_KEY = {"f": "f", "i": "i", "o": "o", "c": "c_tilde", "z": "z", "r": "r", "h": "h_tilde"}
SHAPES_HINT = ("the weights act on the column vectors from the left: W_* (H, H) multiplies h_{t-1} (H, N), "
               "U_* (H, D) multiplies x_t (D, N), and b_* (H, 1) broadcasts over the N columns.")


# ---------------------------------------------------------------- random cases


def _params(rng, cell, D, H, scale=0.5):
    """The cell's parameters with every entry (biases too) moved by N(0, scale^2), so no gate is trivial."""
    return {k: v + scale * rng.normal(size=v.shape) for k, v in CELLS[cell].init(D, H, rng).items()}


def _step_settings(rng, hidden):
    """(label, D, H, N, input scale): D == H in one case, so that W and U swapped give no shape error."""
    settings = [("D=3, H=4, N=2", 3, 4, 2, 1.0), ("D=5, H=2, N=3", 5, 2, 3, 1.0), ("D=H=3, N=4", 3, 3, 4, 1.0)]
    if hidden:
        settings += [(f"random shapes D={d}, H={h}, N={n}", d, h, n, 1.0)
                     for d, h, n in rng.integers(1, 7, size=(2, 3)).tolist()]
        settings += [("one unit, one example: D=1, H=1, N=1", 1, 1, 1, 1.0),
                     ("extreme inputs (x of scale 30: saturated gates), D=4, H=3, N=2", 4, 3, 2, 30.0)]
    return settings


def _step_inputs(rng, cell, hidden):
    """[(label, x, h_prev, c_prev or None, params)] for one step of the cell."""
    out = []
    for label, D, H, N, scale in _step_settings(rng, hidden):
        params = _params(rng, cell, D, H)
        x, h_prev = scale * rng.normal(size=(D, N)), np.tanh(rng.normal(size=(H, N)))
        c_prev = rng.normal(size=(H, N)) if cell == "lstm" else None
        out.append((f"{label}, random x, h_prev{', c_prev' if cell == 'lstm' else ''} and parameters",
                    x, h_prev, c_prev, params))
    return out


def _sequence_settings(rng, hidden):
    settings = [("T=4, D=3, H=2, N=3", 4, 3, 2, 3), ("T=6, D=2, H=3, N=2", 6, 2, 3, 2)]
    if hidden:
        settings += [("one step: T=1, D=3, H=2, N=2", 1, 3, 2, 2)]
        settings += [(f"random shapes T={t}, D={d}, H={h}, N={n}", t, d, h, n)
                     for t, d, h, n in rng.integers(1, 7, size=(2, 4)).tolist()]
    return settings


def _sequence_inputs(rng, cell, hidden):
    """[(label, xs, h0, c0 or None, params)]: the LSTM's first case starts from C_0 = 0 (c0 None)."""
    out = []
    for k, (label, T, D, H, N) in enumerate(_sequence_settings(rng, hidden)):
        params = _params(rng, cell, D, H)
        xs, h0 = rng.normal(size=(T, D, N)), np.tanh(rng.normal(size=(H, N)))
        c0 = rng.normal(size=(H, N)) if cell == "lstm" and k > 0 else None
        out.append((label, xs, h0, c0, params))
    return out


# ---------------------------------------------------------------- the exercises' caches from the reference


def _lstm_values(x, h_prev, c_prev, params):
    """{f, i, o, c_tilde, c, h} of one LSTM step, by the reference."""
    h, _, cache = lstm.lstm_step_forward(x, h_prev, c_prev, params)
    acts = lstm.lstm_activations(cache)
    return {key: value[0] for key, value in acts.items()}


def _gru_values(x, h_prev, params):
    """{z, r, h_tilde, h} of one GRU step, by the reference."""
    _, cache = gru.gru_step_forward(x, h_prev, params)
    return {key: value[0] for key, value in gru.gru_activations(cache).items()}


def lstm_exercise_cache(x, h_prev, c_prev, params) -> dict:
    """The cache the notebook's lstm_step_forward returns, from the reference's values."""
    values = _lstm_values(x, h_prev, c_prev, params)
    return {"x": x, "h_prev": h_prev, "c_prev": c_prev, **{k: values[k] for k in ("f", "i", "o", "c_tilde", "c")},
            "params": params}


def gru_exercise_cache(x, h_prev, params) -> dict:
    """The cache the notebook's gru_step_forward returns, from the reference's values."""
    values = _gru_values(x, h_prev, params)
    return {"x": x, "h_prev": h_prev, **{k: values[k] for k in ("z", "r", "h_tilde")}, "params": params}


# ---------------------------------------------------------------- reading what the student returned


def _tuple(out, n, name, what):
    """out as a tuple of n items; CheckFailure saying what to return otherwise."""
    require_returned(out, name, returns=what)
    if not isinstance(out, (tuple, list)) or len(out) != n:
        got = f"{type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else type(out).__name__
        raise CheckFailure(f"{name} must return {what}; received a {got}")
    return tuple(out)


def _array(value, label, name):
    if isinstance(value, bool) or not isinstance(value, (np.ndarray, np.generic, float, int)):
        raise CheckFailure(f"{name} must return a NumPy array for {label}; received {type(value).__name__}")
    return np.asarray(value)


def _grads(value, keys, label, name):
    """The gradient dict as {dW_f: array, ...} in the order of keys; CheckFailure naming missing keys."""
    if not isinstance(value, dict):
        raise CheckFailure(f"{name} must return the parameter gradients {label} as a dict with the keys of params "
                           f"({', '.join(keys)}); received {type(value).__name__}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise CheckFailure(f"the gradient dict {label} returned by {name} lacks the keys {missing}; it needs one "
                           f"gradient per parameter, with the parameter's name ({', '.join(keys)})")
    return {f"d{k}": _array(value[k], f"{label}[{k!r}]", name) for k in keys}


def _cache_values(cache, keys, name, backward):
    """{"cache['x']": array, ...} of a step cache: the exercise's dict (checked: a dict with ``keys``, params a
    dict), or the reference's own cache (its values read through lstm.as_cache / gru.as_cache's format)."""
    if isinstance(cache, lstm.LSTMCache):
        acts = lstm.lstm_activations(cache)
        values = {"x": cache.xs[0], "h_prev": cache.h0, "c_prev": cache.c0, **{k: v[0] for k, v in acts.items()}}
    elif isinstance(cache, gru.GRUCache):
        acts = gru.gru_activations(cache)
        values = {"x": cache.xs[0], "h_prev": cache.h0, **{k: v[0] for k, v in acts.items()}}
    else:
        if not isinstance(cache, dict):
            raise CheckFailure(f"the cache returned by {name} must be a dict with the keys {list(keys)}; "
                               f"received {type(cache).__name__}")
        missing = [k for k in keys if k not in cache]
        if missing:
            raise CheckFailure(f"the cache returned by {name} lacks the keys {missing}: {backward} needs "
                               f"{list(keys)}")
        if not isinstance(cache["params"], dict):
            raise CheckFailure(f"cache['params'] must be the params dict; received {type(cache['params']).__name__}")
        values = cache
    return {f"cache[{k!r}]": _array(values[k], f"cache[{k!r}]", name) for k in keys if k != "params"}


# ---------------------------------------------------------------- comparing, gate by gate


def _wrong(expected: dict, got: dict, rtol=1e-6, atol=1e-9) -> list:
    return [k for k in expected if got[k].shape != expected[k].shape
            or not np.allclose(got[k], expected[k], rtol=rtol, atol=atol, equal_nan=True)]


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def gate_summary(wrong: list, keys: list, gates: tuple) -> str:
    """'The forget gate's gradient dW_f is wrong; dW_i, dW_o and dW_c are right, with their dU and db; dx, ...
    are right.'  wrong, keys: flat names ('dx', 'dW_f', ...); gates: the cell's gates in order."""
    of_gate = {g: [k for k in keys if k[1:2] in ("W", "U", "b") and k[2:] == f"_{g}"] for g in gates}
    bad_gates = [g for g in gates if set(of_gate[g]) & set(wrong)]
    parts = []
    for g in bad_gates:
        bad = [k for k in of_gate[g] if k in wrong]
        ok = [k for k in of_gate[g] if k not in wrong]
        parts.append(f"{OWNER[g]} gradient{'s' if len(bad) > 1 else ''} {_join(bad)} {_be(bad)} wrong"
                     + (f" ({_join(ok)} {_be(ok)} right)" if ok else ""))
    good_gates = [g for g in gates if g not in bad_gates and of_gate[g]]
    if good_gates and bad_gates:
        parts.append(f"{_join(f'dW_{g}' for g in good_gates)} {_be(good_gates)} right (and "
                     f"{'their' if len(good_gates) > 1 else 'its'} dU and db)")
    others = [k for k in keys if not any(k in v for v in of_gate.values())]
    bad_others, good_others = [k for k in others if k in wrong], [k for k in others if k not in wrong]
    if bad_others:
        parts.append(f"{_join(bad_others)} {_be(bad_others)} wrong")
    if good_others and wrong:
        parts.append(f"{_join(good_others)} {_be(good_others)} right")
    if not bad_gates and gates and any(of_gate.values()):
        parts.append("every parameter gradient is right")
    text = "; ".join(parts)
    return (text[:1].upper() if text.startswith("the") else text[:1]) + text[1:] + "."


def _be(items) -> str:
    return "are" if len(list(items)) > 1 else "is"


def _detail(name, case, expected, got, key, rtol=1e-6, atol=1e-9):
    """framework.compare's description of one output, without its 'on case' line."""
    label = name if len(expected) == 1 else f"{key} returned by {name}"
    message = compare(label, case, (expected[key],), (got[key],), (key,), rtol, atol) or ""
    return message.split("\n  on case:")[0]


def verify_named(fn, name, cases, expected, gates=(), hints=(), error_hints=(), caught=None, summary=True):
    """Compare fn(*case.args) (a dict of arrays, the student's outputs by name) with expected[i] (a dict) on
    each case; on a mismatch raise with the gate-by-gate summary, the first wrong output and a hint."""
    caught = [] if caught is None else caught
    for case, exp in zip(cases, expected):
        try:
            got = call_student(fn, name, case, caught)
        except CheckFailure as failure:
            hint = first_hint(error_hints, case, failure.__cause__) if failure.__cause__ else None
            if hint:
                raise CheckFailure(f"{failure}\nHint: {hint}") from failure.__cause__
            raise
        wrong = _wrong(exp, got)
        if wrong:
            head = gate_summary(wrong, list(exp), gates) + "\n" if summary and len(exp) > 1 else ""
            hint = first_hint(hints, case, exp, got)
            raise CheckFailure(f"{head}{_detail(name, case, exp, got, wrong[0])}\n  on case: {case.label}"
                               + (f"\nHint: {hint}" if hint else ""))
    return caught


def _shape_error_hint(case, err):
    text = str(err)
    if isinstance(err, ValueError) and ("matmul" in text or "broadcast" in text or "shapes" in text):
        return SHAPES_HINT
    if isinstance(err, KeyError):
        return (f"the parameters are named as on the slides, for example params['W_f'], params['U_f'], params['b_f']; "
                f"there is no key {text}.")


# ---------------------------------------------------------------- the LSTM


def _lstm_forward_hints(seen):
    def hint(case, expected, got):
        x, h_prev, c_prev, params = case.args
        v = _lstm_values(x, h_prev, c_prev, params)
        h, c = got["h"], got["c"]
        if close(c, v["c"]) and close(h, v["o"] * v["c"]):
            return ("h_t = o_t ⊙ tanh(C_t): you returned o_t ⊙ C_t, without the tanh. The cell C_t is not squashed "
                    "(that is what lets it carry values unchanged), so h_t needs the tanh.")
        if close(c, v["c"]) and close(h, np.tanh(v["c"])):
            return "h_t = o_t ⊙ tanh(C_t): the output gate o_t is missing."
        if close(c, v["f"] * c_prev + v["c_tilde"]):
            return "C_t = f_t ⊙ C_{t-1} + i_t ⊙ C~_t: the input gate i_t must scale the candidate C~_t."
        if close(c, v["c_tilde"] * v["i"]):
            return "C_t = f_t ⊙ C_{t-1} + i_t ⊙ C~_t: the term f_t ⊙ C_{t-1}, the memory kept from the last step, is missing."
        if close(c, v["i"] * c_prev + v["f"] * v["c_tilde"]):
            return "the forget gate f_t scales the old cell C_{t-1} and the input gate i_t the candidate C~_t; yours are swapped."
        cache = seen.get("cache")
        if isinstance(cache, dict):
            bad = [g for g in LSTM_GATES if ACT_KEY[g] in cache and not close(cache[ACT_KEY[g]], v[ACT_KEY[g]])]
            if bad and len(bad) < len(LSTM_GATES):
                good = [g for g in LSTM_GATES if g not in bad]
                pre = {g: params[f"W_{g}"] @ h_prev + params[f"U_{g}"] @ x + params[f"b_{g}"] for g in bad}
                extra = ""
                for g in bad:
                    squash, other = (np.tanh, "tanh") if g != "c" else (sigmoid, "σ")
                    if close(cache[ACT_KEY[g]], squash(pre[g])):
                        extra = f" Your {GATE[g].split(' ', 1)[1]} uses {other}; " + (
                            "the gates use the sigmoid σ, which lies in (0, 1)." if g != "c"
                            else "the candidate uses tanh, which lies in (-1, 1).")
                return (f"your cache shows {_join(GATE[g] for g in bad)} wrong ({'; '.join(FORMULA[g] for g in bad)}), "
                        f"while {_join(GATE[g] for g in good)} {'are' if len(good) > 1 else 'is'} right.{extra}")
        if close(c, v["c"]):
            return "C_t is right, so only the last line is wrong: h_t = o_t ⊙ tanh(C_t)."
    return hint


@exercise(ASSIGNMENT, points=10, reference=lstm.lstm_step_forward)
def check_lstm_step_forward(lstm_step_forward, seed: int = 0, hidden: bool = False) -> None:
    """(h, c, cache) of one LSTM step, and the cache dict the exercise specifies."""
    require_function(lstm_step_forward, "lstm_step_forward")
    name = "lstm_step_forward"
    rng = np.random.default_rng(seed)
    inputs = _step_inputs(rng, "lstm", hidden)
    cases = [Case(label, (x, h, c, p)) for label, x, h, c, p in inputs]
    seen = {}

    def outputs(*args):
        h, c, cache = _tuple(lstm_step_forward(*args), 3, name, "(h, c, cache)")
        seen["cache"] = cache
        return {"h": _array(h, "h", name), "c": _array(c, "c", name)}

    expected = []
    for case in cases:
        v = _lstm_values(*case.args)
        expected.append({"h": v["h"], "c": v["c"]})
    caught = verify_named(outputs, name, cases, expected, hints=(_lstm_forward_hints(seen),),
                          error_hints=(_shape_error_hint,), summary=False)

    def cache_of(*args):
        cache = _tuple(lstm_step_forward(*args), 3, name, "(h, c, cache)")[2]
        return _cache_values(cache, LSTM_CACHE, name, "lstm_step_backward")

    cache_expected = [{f"cache[{k!r}]": v for k, v in lstm_exercise_cache(*case.args).items() if k != "params"}
                      for case in cases]

    def cache_hint(case, expected, got):
        if close(got["cache['c']"], np.tanh(expected["cache['c']"])):
            return "store the cell C_t itself in cache['c'], not tanh(C_t)."
        return "the cache holds the step's inputs x, h_prev, c_prev, the gates f, i, o, the candidate c_tilde, the cell c."

    caught += verify_named(cache_of, name, cases, cache_expected, hints=(cache_hint,), summary=False)
    passed(name, len(cases), caught)


def _lstm_flat(out, name, keys):
    dx, dh_prev, dc_prev, grads = _tuple(out, 4, name, "(dx, dh_prev, dc_prev, grads)")
    return {"dx": _array(dx, "dx", name), "dh_prev": _array(dh_prev, "dh_prev", name),
            "dc_prev": _array(dc_prev, "dc_prev", name), **_grads(grads, keys, "grads", name)}


def _lstm_step_backward_hints(case, expected, got):
    dh, dc, cache = case.args
    f, o, c = cache["f"], cache["o"], cache["c"]
    dc_total = dc + dh * o * (1 - np.tanh(c) ** 2)
    if close(got["dc_prev"], dc_total) and not close(f, np.ones_like(f)):
        return ("the gradient into C_{t-1} misses the forget gate: C_t = f_t ⊙ C_{t-1} + ..., so "
                "dJ/dC_{t-1} = dJ/dC_t ⊙ f_t (the one multiplication along the cell's additive path).")
    if close(got["dc_prev"], dc * f):
        return ("dJ/dC_t has two parts: dc, from the next step, plus the path through h_t = o_t ⊙ tanh(C_t), "
                "dh ⊙ o_t ⊙ (1 - tanh(C_t)^2). Add them before you use dJ/dC_t.")
    if close(got["dc_prev"], (dc + dh * o * (1 - c ** 2)) * f):
        return "the derivative of tanh(C_t) is 1 - tanh(C_t)^2, not 1 - C_t^2."
    if close(got["dc_prev"], (dc + dh * o) * f):
        return "the path through h_t = o_t ⊙ tanh(C_t) needs the derivative of tanh: dh ⊙ o_t ⊙ (1 - tanh(C_t)^2)."
    if any(got[f"db_{g}"].shape == (expected[f"db_{g}"].shape[0], dh.shape[1]) != expected[f"db_{g}"].shape
           for g in LSTM_GATES):
        return "db_* has the shape of b_*, (H, 1): sum δ over the batch, delta.sum(axis=1, keepdims=True)."
    wrong = [k for k in _wrong(expected, got) if k[1:2] in ("W", "U", "b")]
    if wrong and set(wrong) <= {"dW_f", "dU_f", "db_f"}:
        return "δ_f = dJ/dC_t ⊙ C_{t-1} ⊙ f_t ⊙ (1 - f_t): the forget gate multiplies the previous cell C_{t-1}."
    if set(wrong) <= {"dx", "dh_prev"}:
        return ("the parameter gradients are right, so each δ_g is: dh_prev = Σ_g W_g^T δ_g and dx = Σ_g U_g^T δ_g, "
                "summed over the four gates.")


def _lstm_backward_cases(rng, hidden):
    """[(Case (dh, dc, exercise cache), expected flat dict)] and the inputs used."""
    cases, expected, inputs = [], [], []
    for label, x, h_prev, c_prev, params in _step_inputs(rng, "lstm", hidden):
        H, N = h_prev.shape
        dh, dc = rng.normal(size=(H, N)), rng.normal(size=(H, N))
        _, _, ref_cache = lstm.lstm_step_forward(x, h_prev, c_prev, params)
        dx, dh_prev, dc_prev, grads = lstm.lstm_step_backward(dh, dc, ref_cache)
        cases.append(Case(f"{label}; random dh and dc", (dh, dc, lstm_exercise_cache(x, h_prev, c_prev, params))))
        expected.append({"dx": dx, "dh_prev": dh_prev, "dc_prev": dc_prev, **{f"d{k}": v for k, v in grads.items()}})
        inputs.append((x, h_prev, c_prev, params))
    return cases, expected, inputs


@exercise(ASSIGNMENT, points=14, reference=lstm.lstm_step_backward)
def check_lstm_step_backward(lstm_step_backward, seed: int = 0, hidden: bool = False) -> None:
    """(dx, dh_prev, dc_prev, grads) of one LSTM step, from dh, dc and the exercise's cache."""
    require_function(lstm_step_backward, "lstm_step_backward")
    name = "lstm_step_backward"
    rng = np.random.default_rng(seed)
    cases, expected, inputs = _lstm_backward_cases(rng, hidden)
    keys = list(lstm.KEYS)
    caught = verify_named(lambda *a: _lstm_flat(lstm_step_backward(*a), name, keys), name, cases, expected,
                          gates=LSTM_GATES, hints=(_lstm_step_backward_hints,), error_hints=(_shape_error_hint,))
    if hidden:
        x, h_prev, c_prev, params = inputs[0]
        dh, dc, cache = cases[0].args
        got = call_student(lstm_step_backward, name, Case("finite differences", (dh, dc, cache)), caught)
        dx, dh_prev, dc_prev, grads = _tuple(got, 4, name, "(dx, dh_prev, dc_prev, grads)")

        def J(p):
            h, c, _ = lstm.lstm_step_forward(p["x"], p["h_prev"], p["c_prev"], {k: p[k] for k in keys})
            return float(np.sum(dh * h) + np.sum(dc * c))
        check_gradients(name, J, {"x": x, "h_prev": h_prev, "c_prev": c_prev, **params},
                        {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, **grads})
    passed(name, len(cases) + hidden, caught)


def _reference_steps(step_forward, xs, state, params):
    """The reference step caches of a sequence (the sequence exercises pass them along unopened)."""
    caches = []
    for x in xs:
        out = step_forward(x, *state, params)
        state, cache = out[:-1], out[-1]
        caches.append(cache)
    return caches


def _sequence_cache_check(name, cache, hs, T):
    """The sequence's cache must be the list of the T step caches in time order (here the reference's step
    caches); the reference's own sequence cache (one object for all steps) passes too."""
    if isinstance(cache, (lstm.LSTMCache, gru.GRUCache)) and close(cache.hs, hs):
        return
    if not isinstance(cache, (list, tuple)) or len(cache) != T:
        got = f"a {type(cache).__name__} of length {len(cache)}" if isinstance(cache, (list, tuple)) \
            else type(cache).__name__
        raise CheckFailure(f"the cache returned by {name} must be the list of the {T} step caches, one per step in "
                           f"time order; received {got}")
    for t, step in enumerate(cache):
        h = getattr(step, "hs", None)
        if h is None or not close(h[0], hs[t]):
            raise CheckFailure(f"cache[{t}] returned by {name} must be the cache of step {t + 1} (what the step "
                               f"function returned when it computed hs[{t}]): the list of step caches in time order.")


def _lstm_sequence_variants(xs, h0, params, c0):
    """hs of the usual wrong loops: (what, hs)."""
    H, N = h0.shape
    c_start = np.zeros((H, N)) if c0 is None else c0
    out = []
    for what, carry_h, carry_c, start in (("C_t is not carried to the next step", True, False, c_start),
                                          ("h_t is not carried to the next step", False, True, c_start),
                                          ("c0 is not used", True, True, np.zeros((H, N)))):
        h, c, hs = h0, start, []
        for x in xs:
            h_new, c_new, _ = lstm.lstm_step_forward(x, h if carry_h else h0, c if carry_c else start, params)
            h, c = h_new, c_new
            hs.append(h)
        out.append((what, np.stack(hs)))
    return out


def _sequence_forward_hint(variants_of, advice):
    def hint(case, expected, got):
        hs = got["hs"]
        exp = expected["hs"]
        if hs.shape == (exp.shape[0], exp.shape[2], exp.shape[1]):
            return "hs has shape (T, H, N): stack the h_t of the steps, np.stack(list_of_h) (each h_t is (H, N))."
        if close(hs, exp[::-1]):
            return "hs must be in time order: hs[0] = h_1, ..., hs[T-1] = h_T."
        if hs.shape == exp.shape[1:] and close(hs, exp[-1]):
            return "return every hidden state, hs (T, H, N), not only the last one."
        h0 = case.args[1]
        if hs.shape == exp.shape and close(hs, np.broadcast_to(h0, hs.shape)):
            return "every hs[t] equals h0: the loop must keep the new state, h = the step's output, for the next step."
        for what, variant in variants_of(*case.args):
            if close(hs, variant) and not close(variant, exp):
                return f"{what}: {advice[what]}"
    return hint


LSTM_LOOP_ADVICE = {
    "C_t is not carried to the next step": "each step must start from the previous step's cell: "
                                           "h, c, cache_t = lstm_step_forward(x_t, h, c, params).",
    "h_t is not carried to the next step": "each step must start from the previous step's h_t.",
    "c0 is not used": "start from C_0 = c0 when it is given (zeros only when c0 is None).",
}


@exercise(ASSIGNMENT, points=8, reference=lstm.lstm_forward)
def check_lstm_forward(lstm_forward, seed: int = 0, hidden: bool = False) -> None:
    """hs (T, H, N) and the list of step caches; lstm_step_forward is the reference one while it runs."""
    require_function(lstm_forward, "lstm_forward")
    name = "lstm_forward"
    rng = np.random.default_rng(seed)
    cases, expected = [], []
    for label, xs, h0, c0, params in _sequence_inputs(rng, "lstm", hidden):
        args = (xs, h0, params) if c0 is None else (xs, h0, params, c0)
        cases.append(Case(f"{label}, {'C_0 = 0 (c0 not given)' if c0 is None else 'a given c0'}", args))
        expected.append({"hs": lstm.lstm_forward(*args)[0]})
    seen = {}

    def outputs(*args):
        hs, cache = _tuple(lstm_forward(*args), 2, name, "(hs, cache)")
        seen["cache"], seen["T"] = cache, len(args[0])
        return {"hs": _array(hs, "hs", name)}

    def signature_hint(case, err):
        if isinstance(err, TypeError) and "positional argument" in str(err):
            return "the signature is lstm_forward(xs, h0, params, c0=None): c0 is optional, zeros when None."

    with using_reference(lstm_forward, lstm_step_forward=lstm.lstm_step_forward):
        caught = verify_named(outputs, name, cases, expected, summary=False, error_hints=(signature_hint,), hints=(
            _sequence_forward_hint(lambda xs, h0, p, c0=None: _lstm_sequence_variants(xs, h0, p, c0),
                                   LSTM_LOOP_ADVICE),))
        for case, exp in zip(cases, expected):
            call_student(outputs, name, case, caught)
            _sequence_cache_check(name, seen["cache"], exp["hs"], seen["T"])
    passed(name, len(cases), caught)


def _accumulate(step_backward, dhs, caches, carry_h=True, carry_c=True, accumulate=True):
    """BPTT by the reference step backward, with the usual mistakes switched on: (dxs, dh0, grads)."""
    H, N = dhs.shape[1:]
    dh_next, dc_next, dxs, grads = np.zeros((H, N)), np.zeros((H, N)), [None] * len(caches), None
    lstm_cell = step_backward is lstm.lstm_step_backward
    for t in reversed(range(len(caches))):
        dh = dhs[t] + (dh_next if carry_h else 0)
        if lstm_cell:
            dxs[t], dh_next, dc_next_new, g = step_backward(dh, dc_next if carry_c else np.zeros((H, N)), caches[t])
            dc_next = dc_next_new
        else:
            dxs[t], dh_next, g = step_backward(dh, caches[t])
        grads = g if grads is None or not accumulate else {k: grads[k] + g[k] for k in grads}
    return np.stack(dxs), dh_next, grads


def _flat_sequence(out, name, keys):
    dxs, dh0, grads = _tuple(out, 3, name, "(dxs, dh0, grads)")
    return {"dxs": _array(dxs, "dxs", name), "dh0": _array(dh0, "dh0", name), **_grads(grads, keys, "grads", name)}


def _sequence_backward_hint(step_backward, keys, lstm_cell):
    def flat(dxs, dh0, grads):
        return {"dxs": dxs, "dh0": dh0, **{f"d{k}": grads[k] for k in keys}}

    params = [f"d{k}" for k in keys]
    mistakes = [("carry_c", "dc from the next step is not added: each step's lstm_step_backward takes as dc the "
                            "dJ/dC_t carried back from step t+1 (the dc_prev that step returned), zeros only at t = T.",
                 None)] if lstm_cell else []
    mistakes += [("carry_h", "dJ/dh_t from the next step is not added: the step's dh is dhs[t] + the dh_prev that "
                             "step t+1 returned.", None),
                 ("accumulate", "the weights are shared by all steps, so their gradients are sums over the steps: "
                                "add up the grads of every step, do not keep only one step's.", params)]

    def hint(case, expected, got):
        dhs, caches = case.args
        if got["dxs"].shape == expected["dxs"].shape and close(got["dxs"], expected["dxs"][::-1]) \
                and not close(got["dxs"], expected["dxs"]):
            return "dxs must be in time order: dxs[t] = dJ/dx_{t+1}, although the loop runs backwards."
        for switch, advice, compared in mistakes:
            variant = flat(*_accumulate(step_backward, dhs, caches, **{switch: False}))
            if not all(close(variant[k], expected[k]) for k in expected) \
                    and all(close(got[k], variant[k]) for k in compared or expected):
                return advice
        if all(close(got[k], expected[k]) for k in expected if k != "dh0"):
            return "return dh0 = dJ/dh_0, the dh_prev of the first step (the last one the loop handles)."
    return hint


def _lstm_sequence_backward_cases(rng, hidden):
    cases, expected, inputs = [], [], []
    for label, xs, h0, c0, params in _sequence_inputs(rng, "lstm", hidden):
        c0 = np.zeros_like(h0) if c0 is None else c0
        caches = _reference_steps(lstm.lstm_step_forward, xs, (h0, c0), params)
        hs, ref_cache = lstm.lstm_forward(xs, h0, params, c0)
        dhs = rng.normal(size=hs.shape)
        dxs, dh0, grads = lstm.lstm_backward(dhs, ref_cache)
        cases.append(Case(f"{label}, random dhs; the cache: the list of the reference lstm_step_forward's caches",
                          (dhs, caches)))
        expected.append({"dxs": dxs, "dh0": dh0, **{f"d{k}": v for k, v in grads.items()}})
        inputs.append((xs, h0, c0, params))
    return cases, expected, inputs


@exercise(ASSIGNMENT, points=12, reference=lstm.lstm_backward)
def check_lstm_backward(lstm_backward, seed: int = 0, hidden: bool = False) -> None:
    """(dxs, dh0, grads) by BPTT over the step caches; lstm_step_backward is the reference one while it runs."""
    require_function(lstm_backward, "lstm_backward")
    name = "lstm_backward"
    rng = np.random.default_rng(seed)
    cases, expected, inputs = _lstm_sequence_backward_cases(rng, hidden)
    keys = list(lstm.KEYS)
    fn = lambda *a: _flat_sequence(lstm_backward(*a), name, keys)  # noqa: E731
    with using_reference(lstm_backward, lstm_step_backward=lstm.lstm_step_backward):
        caught = verify_named(fn, name, cases, expected, gates=LSTM_GATES,
                              hints=(_sequence_backward_hint(lstm.lstm_step_backward, keys, True),))
        if hidden:
            xs, h0, c0, params = inputs[1]
            dhs, caches = cases[1].args
            dxs, dh0, grads = _tuple(call_student(lstm_backward, name, Case("finite differences", (dhs, caches)),
                                                  caught), 3, name, "(dxs, dh0, grads)")

            def J(p):
                return float(np.sum(dhs * lstm.lstm_forward(p["xs"], p["h0"], {k: p[k] for k in keys}, c0)[0]))
            check_gradients(name, J, {"xs": xs, "h0": h0, **params}, {"xs": dxs, "h0": dh0, **grads})
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- the GRU


def _gru_forward_hints(seen):
    def hint(case, expected, got):
        x, h_prev, params = case.args
        v = _gru_values(x, h_prev, params)
        z, r, h = v["z"], v["r"], got["h"]
        u_h = params["U_h"] @ x + params["b_h"]
        if close(h, z * h_prev + (1 - z) * v["h_tilde"]):
            return ("z_t and 1 - z_t are swapped: the lecture's GRU is h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t "
                    "(z_t = 1 takes the new candidate). PyTorch's nn.GRU swaps the two, a different but equally "
                    "valid GRU; here we follow the lecture (Cho et al. 2014).")
        after = np.tanh(r * (params["W_h"] @ h_prev) + u_h)
        if close(h, (1 - z) * h_prev + z * after):
            return ("the reset gate is applied after W_h: the lecture's candidate is h~_t = tanh(W_h (r_t ⊙ h_{t-1}) + "
                    "U_h x_t + b_h), r_t multiplies h_{t-1} before the matrix product (PyTorch's GRU does it after).")
        if close(h, z * h_prev + (1 - z) * after):
            return ("that is PyTorch's GRU (reset gate after W_h, z and 1 - z swapped), not the lecture's: "
                    "h~_t = tanh(W_h (r_t ⊙ h_{t-1}) + U_h x_t + b_h), h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t.")
        if close(h, (1 - z) * h_prev + z * np.tanh(params["W_h"] @ h_prev + u_h)):
            return "the reset gate is missing: h~_t = tanh(W_h (r_t ⊙ h_{t-1}) + U_h x_t + b_h)."
        if close(h, v["h_tilde"]):
            return "that is the candidate h~_t; the output mixes it with the old state: h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t."
        cache = seen.get("cache")
        if isinstance(cache, dict):
            bad = [g for g in GRU_GATES if ACT_KEY[g] in cache and not close(cache[ACT_KEY[g]], v[ACT_KEY[g]])]
            if bad and len(bad) < len(GRU_GATES):
                good = [g for g in GRU_GATES if g not in bad]
                return (f"your cache shows {_join(GATE[g] for g in bad)} wrong ({'; '.join(FORMULA[g] for g in bad)}), "
                        f"while {_join(GATE[g] for g in good)} {'are' if len(good) > 1 else 'is'} right.")
    return hint


@exercise(ASSIGNMENT, points=8, reference=gru.gru_step_forward)
def check_gru_step_forward(gru_step_forward, seed: int = 0, hidden: bool = False) -> None:
    """(h, cache) of one GRU step in the lecture's form, and the cache dict the exercise specifies."""
    require_function(gru_step_forward, "gru_step_forward")
    name = "gru_step_forward"
    rng = np.random.default_rng(seed)
    cases = [Case(label, (x, h, p)) for label, x, h, _, p in _step_inputs(rng, "gru", hidden)]
    seen = {}

    def outputs(*args):
        h, cache = _tuple(gru_step_forward(*args), 2, name, "(h, cache)")
        seen["cache"] = cache
        return {"h": _array(h, "h", name)}

    expected = [{"h": _gru_values(*case.args)["h"]} for case in cases]
    caught = verify_named(outputs, name, cases, expected, hints=(_gru_forward_hints(seen),),
                          error_hints=(_shape_error_hint,), summary=False)

    def cache_of(*args):
        cache = _tuple(gru_step_forward(*args), 2, name, "(h, cache)")[1]
        return _cache_values(cache, GRU_CACHE, name, "gru_step_backward")

    cache_expected = [{f"cache[{k!r}]": v for k, v in gru_exercise_cache(*case.args).items() if k != "params"}
                      for case in cases]
    caught += verify_named(cache_of, name, cases, cache_expected, summary=False, hints=(
        lambda case, e, g: "the cache holds the step's inputs x and h_prev, the gates z and r, and the candidate "
                           "h_tilde (after its tanh).",))
    passed(name, len(cases), caught)


def _gru_flat(out, name, keys):
    dx, dh_prev, grads = _tuple(out, 3, name, "(dx, dh_prev, grads)")
    return {"dx": _array(dx, "dx", name), "dh_prev": _array(dh_prev, "dh_prev", name),
            **_grads(grads, keys, "grads", name)}


def _gru_step_backward_hints(case, expected, got):
    dh, cache = case.args
    x, h_prev, z, r, h_tilde, p = (cache[k] for k in GRU_CACHE)
    delta_h = dh * z * (1 - h_tilde ** 2)
    wrong = _wrong(expected, got)
    if close(got["dW_h"], delta_h @ h_prev.T) and not close(r, np.ones_like(r)):
        return "W_h multiplies r_t ⊙ h_{t-1}, so dW_h = δ_h (r_t ⊙ h_{t-1})^T, not δ_h h_{t-1}^T."
    if close(got["dW_z"], -expected["dW_z"]):
        return ("dh_t/dz_t = h~_t - h_{t-1} (h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t); your sign is flipped, "
                "as if z and 1 - z were swapped.")
    d_rh = p["W_h"].T @ delta_h
    if close(got["dh_prev"], expected["dh_prev"] - dh * (1 - z)):
        return ("dJ/dh_{t-1} misses the direct path h_t = (1 - z_t) ⊙ h_{t-1} + ...: add dh ⊙ (1 - z_t) "
                "(the GRU's additive path).")
    if close(got["dh_prev"], expected["dh_prev"] - d_rh * r):
        return "dJ/dh_{t-1} misses the path through the candidate: (W_h^T δ_h) ⊙ r_t, since W_h acts on r_t ⊙ h_{t-1}."
    if close(got["dh_prev"], expected["dh_prev"] - d_rh * r + d_rh):
        return "the path through the candidate is (W_h^T δ_h) ⊙ r_t: the reset gate scales it."
    if any(got[f"db_{g}"].shape == (expected[f"db_{g}"].shape[0], dh.shape[1]) != expected[f"db_{g}"].shape
           for g in GRU_GATES):
        return "db_* has the shape of b_*, (H, 1): sum δ over the batch, delta.sum(axis=1, keepdims=True)."
    if set(wrong) <= {"dx", "dh_prev"}:
        return ("the parameter gradients are right, so each δ_g is: dx = Σ_g U_g^T δ_g, and dh_prev collects four "
                "paths: dh ⊙ (1 - z_t), (W_h^T δ_h) ⊙ r_t, W_z^T δ_z and W_r^T δ_r.")


@exercise(ASSIGNMENT, points=12, reference=gru.gru_step_backward)
def check_gru_step_backward(gru_step_backward, seed: int = 0, hidden: bool = False) -> None:
    """(dx, dh_prev, grads) of one GRU step, from dh and the exercise's cache."""
    require_function(gru_step_backward, "gru_step_backward")
    name = "gru_step_backward"
    rng = np.random.default_rng(seed)
    keys = list(gru.KEYS)
    cases, expected, inputs = [], [], []
    for label, x, h_prev, _, params in _step_inputs(rng, "gru", hidden):
        dh = rng.normal(size=h_prev.shape)
        dx, dh_prev, grads = gru.gru_step_backward(dh, gru.gru_step_forward(x, h_prev, params)[1])
        cases.append(Case(f"{label}; random dh", (dh, gru_exercise_cache(x, h_prev, params))))
        expected.append({"dx": dx, "dh_prev": dh_prev, **{f"d{k}": v for k, v in grads.items()}})
        inputs.append((x, h_prev, params))
    caught = verify_named(lambda *a: _gru_flat(gru_step_backward(*a), name, keys), name, cases, expected,
                          gates=GRU_GATES, hints=(_gru_step_backward_hints,), error_hints=(_shape_error_hint,))
    if hidden:
        x, h_prev, params = inputs[0]
        dh, cache = cases[0].args
        dx, dh_prev, grads = _tuple(call_student(gru_step_backward, name, Case("finite differences", (dh, cache)),
                                                 caught), 3, name, "(dx, dh_prev, grads)")

        def J(p):
            return float(np.sum(dh * gru.gru_step_forward(p["x"], p["h_prev"], {k: p[k] for k in keys})[0]))
        check_gradients(name, J, {"x": x, "h_prev": h_prev, **params}, {"x": dx, "h_prev": dh_prev, **grads})
    passed(name, len(cases) + hidden, caught)


GRU_LOOP_ADVICE = {"h_t is not carried to the next step": "each step must start from the previous step's h_t: "
                                                          "h, cache_t = gru_step_forward(x_t, h, params)."}


def _gru_sequence_variants(xs, h0, params):
    hs = [gru.gru_step_forward(x, h0, params)[0] for x in xs]
    return [("h_t is not carried to the next step", np.stack(hs))]


@exercise(ASSIGNMENT, points=6, reference=gru.gru_forward)
def check_gru_forward(gru_forward, seed: int = 0, hidden: bool = False) -> None:
    """hs (T, H, N) and the list of step caches; gru_step_forward is the reference one while it runs."""
    require_function(gru_forward, "gru_forward")
    name = "gru_forward"
    rng = np.random.default_rng(seed)
    cases, expected = [], []
    for label, xs, h0, _, params in _sequence_inputs(rng, "gru", hidden):
        cases.append(Case(label, (xs, h0, params)))
        expected.append({"hs": gru.gru_forward(xs, h0, params)[0]})
    seen = {}

    def outputs(*args):
        hs, cache = _tuple(gru_forward(*args), 2, name, "(hs, cache)")
        seen["cache"], seen["T"] = cache, len(args[0])
        return {"hs": _array(hs, "hs", name)}

    with using_reference(gru_forward, gru_step_forward=gru.gru_step_forward):
        caught = verify_named(outputs, name, cases, expected, summary=False,
                              hints=(_sequence_forward_hint(_gru_sequence_variants, GRU_LOOP_ADVICE),))
        for case, exp in zip(cases, expected):
            call_student(outputs, name, case, caught)
            _sequence_cache_check(name, seen["cache"], exp["hs"], seen["T"])
    passed(name, len(cases), caught)


@exercise(ASSIGNMENT, points=10, reference=gru.gru_backward)
def check_gru_backward(gru_backward, seed: int = 0, hidden: bool = False) -> None:
    """(dxs, dh0, grads) by BPTT over the step caches; gru_step_backward is the reference one while it runs."""
    require_function(gru_backward, "gru_backward")
    name = "gru_backward"
    rng = np.random.default_rng(seed)
    keys = list(gru.KEYS)
    cases, expected, inputs = [], [], []
    for label, xs, h0, _, params in _sequence_inputs(rng, "gru", hidden):
        caches = _reference_steps(gru.gru_step_forward, xs, (h0,), params)
        hs, ref_cache = gru.gru_forward(xs, h0, params)
        dhs = rng.normal(size=hs.shape)
        dxs, dh0, grads = gru.gru_backward(dhs, ref_cache)
        cases.append(Case(f"{label}, random dhs; the cache: the list of the reference gru_step_forward's caches",
                          (dhs, caches)))
        expected.append({"dxs": dxs, "dh0": dh0, **{f"d{k}": v for k, v in grads.items()}})
        inputs.append((xs, h0, params))
    fn = lambda *a: _flat_sequence(gru_backward(*a), name, keys)  # noqa: E731
    with using_reference(gru_backward, gru_step_backward=gru.gru_step_backward):
        caught = verify_named(fn, name, cases, expected, gates=GRU_GATES,
                              hints=(_sequence_backward_hint(gru.gru_step_backward, keys, False),))
        if hidden:
            xs, h0, params = inputs[1]
            dhs, caches = cases[1].args
            dxs, dh0, grads = _tuple(call_student(gru_backward, name, Case("finite differences", (dhs, caches)),
                                                  caught), 3, name, "(dxs, dh0, grads)")

            def J(p):
                return float(np.sum(dhs * gru.gru_forward(p["xs"], p["h0"], {k: p[k] for k in keys})[0]))
            check_gradients(name, J, {"xs": xs, "h0": h0, **params}, {"xs": dxs, "h0": dh0, **grads})
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- the parameter count


@exercise(ASSIGNMENT, points=4, reference=cells_module.count_parameters)
def check_count_parameters(count_parameters, seed: int = 0, hidden: bool = False) -> None:
    """count_parameters(cell, D, H) for 'rnn', 'lstm', 'gru': an integer."""
    require_function(count_parameters, "count_parameters")
    name = "count_parameters"
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (64, 128)] + ([tuple(int(v) for v in rng.integers(1, 300, size=2)), (1, 1)] if hidden else [])
    cases = [Case(f"count_parameters({cell!r}, D={D}, H={H})", (cell, D, H)) for D, H in shapes
             for cell in ("rnn", "lstm", "gru")]
    caught = []
    for case in cases:
        got = call_student(count_parameters, name, case, caught)
        require_returned(got, name, case)
        expected = cells_module.count_parameters(*case.args)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer, float, np.floating)):
            raise CheckFailure(f"{name} must return a number; received {type(got).__name__} on case: {case.label}")
        if got != expected:
            cell, D, H = case.args
            blocks = cells_module.GATE_BLOCKS[cell]
            hint = ""
            if got == blocks * H * (D + H):
                hint = "each block has a bias too: H (D + H + 1) numbers, W (H, H), U (H, D) and b (H, 1)."
            elif got % (H * (D + H + 1)) == 0:
                hint = (f"count the blocks (W, U, b): the RNN has 1, the GRU 3 (z, r, h~) and the LSTM 4 (f, i, o, C~); "
                        f"you counted {got // (H * (D + H + 1))} for the {cell.upper()}.")
            elif got in (blocks * H * (D + 1), blocks * H * (H + 1), blocks * (H * D + H * H)):
                hint = "each block has W (H, H) on h_{t-1}, U (H, D) on x_t and b (H, 1)."
            raise CheckFailure(f"{name} returned {got!r} on case: {case.label}; expected {expected}"
                               + (f"\nHint: {hint}" if hint else ""))
    passed(name, len(cases), caught)


# ---------------------------------------------------------------- bidirectional


def _bi_inputs(rng, hidden):
    settings = [("rnn", 4, 3, 2, 2, 3), ("lstm", 5, 2, 3, 3, 2), ("gru", 3, 3, 2, 2, 4)]
    if hidden:
        settings += [("lstm", 1, 2, 3, 3, 2), ("gru", 6, 2, 2, 3, 3), ("rnn", 5, 4, 3, 1, 2)]  # H_fw != H_bw
    out = []
    for cell, T, D, H_fw, H_bw, N in settings:
        params_fw, params_bw = _params(rng, cell, D, H_fw), _params(rng, cell, D, H_bw)
        xs = rng.normal(size=(T, D, N))
        label = (f"the {cell.upper()} cell, T={T}, D={D}, N={N}, "
                 + (f"H={H_fw} in both directions" if H_fw == H_bw else f"H_fw={H_fw}, H_bw={H_bw}"))
        out.append((label, xs, params_fw, params_bw, CELLS[cell]))
    return out


def _bi_forward_hint(case, expected, got):
    xs, params_fw, params_bw, cell = case.args
    hs, exp = got["hs"], expected["hs"]
    H_fw = cell.forward(xs, None, params_fw)[0].shape[1]
    bw_on_reversed = cell.forward(xs[::-1], None, params_bw)[0]
    if hs.shape == exp.shape and close(hs[:, :H_fw], exp[:, :H_fw]):
        if close(hs[:, H_fw:], bw_on_reversed):
            return ("the backward direction's outputs are not reversed back into time order: it read x_T first, so "
                    "its first output belongs to step T. Reverse them (hs_bw[::-1]) before stacking, so that row t "
                    "holds h_t of both directions.")
        unreversed = cell.forward(xs, None, params_bw)[0]
        if close(hs[:, H_fw:], unreversed) or close(hs[:, H_fw:], unreversed[::-1]):
            return "the backward direction must read the sequence reversed, x_T first: cell.forward(xs[::-1], ...)."
    if hs.shape == exp.shape and close(hs, np.concatenate([cell.forward(xs, None, params_bw)[0],
                                                           cell.forward(xs[::-1], None, params_fw)[0][::-1]], 1)):
        return "params_fw belong to the forward direction and params_bw to the backward one; yours are swapped."
    if hs.shape != exp.shape:
        return (f"stack the two directions along the hidden axis (axis=1): hs has shape (T, H_fw + H_bw, N) = "
                f"{exp.shape}.")


@exercise(ASSIGNMENT, points=8, reference=bi.bidirectional_forward)
def check_bidirectional_forward(bidirectional_forward, seed: int = 0, hidden: bool = False) -> None:
    """hs (T, H_fw + H_bw, N) in time order, and a cache (cell, cache_fw, cache_bw, H_fw) that the reference
    bidirectional_backward can use."""
    require_function(bidirectional_forward, "bidirectional_forward")
    name = "bidirectional_forward"
    rng = np.random.default_rng(seed)
    inputs = _bi_inputs(rng, hidden)
    cases = [Case(label, (xs, pf, pb, cell)) for label, xs, pf, pb, cell in inputs]
    seen = {}

    def outputs(*args):
        hs, cache = _tuple(bidirectional_forward(*args), 2, name, "(hs, cache)")
        seen["cache"] = cache
        return {"hs": _array(hs, "hs", name)}

    expected = [{"hs": bi.bidirectional_forward(*case.args)[0]} for case in cases]
    caught = verify_named(outputs, name, cases, expected, summary=False, hints=(_bi_forward_hint,))
    for case, exp in zip(cases, expected):
        xs, params_fw, params_bw, cell = case.args
        call_student(outputs, name, case, caught)
        cache = seen["cache"]
        H_fw = params_fw[cell.keys[0]].shape[0]
        if not isinstance(cache, (tuple, list)) or len(cache) != 4:
            raise CheckFailure(f"the cache returned by {name} must be the tuple (cell, cache_fw, cache_bw, H_fw); "
                               f"received {type(cache).__name__}"
                               + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""))
        if cache[0] != cell:
            raise CheckFailure(f"cache[0] returned by {name} must be the cell it was given (its backward pass needs "
                               f"cell.backward); the cache is (cell, cache_fw, cache_bw, H_fw). On case: {case.label}")
        if isinstance(cache[3], bool) or not isinstance(cache[3], (int, np.integer)) or cache[3] != H_fw:
            raise CheckFailure(f"cache[3] returned by {name} must be H_fw = {H_fw}, the forward direction's number "
                               f"of units (where the rows of dhs split); received {cache[3]!r}. On case: {case.label}")
        dhs = rng.normal(size=exp["hs"].shape)
        try:
            got = bi.bidirectional_backward(dhs, tuple(cache))
        except Exception as err:
            raise CheckFailure(f"the caches in your cache do not work with the cell's backward pass ({err}); "
                               f"cache[1] and cache[2] must be what cell.forward returned for the two directions. "
                               f"On case: {case.label}") from None
        want = bi.bidirectional_backward(dhs, bi.bidirectional_forward(*case.args)[1])
        if not (close(got[0], want[0]) and all(close(got[k][key], want[k][key]) for k in (2, 3) for key in want[k])):
            raise CheckFailure(f"cache[1] and cache[2] returned by {name} must be the caches that cell.forward "
                               f"returned for the forward direction (on xs) and for the backward one (on the reversed "
                               f"sequence), in that order: backpropagating through them gives wrong gradients. "
                               f"On case: {case.label}")
    passed(name, len(cases), caught)


def _state_arrays(state, label):
    """[(label, array)] of a cell's state gradient: (H, N), or (dh0, dc0) for the LSTM."""
    if isinstance(state, (tuple, list)):
        return [(f"{label}[{k}]", part) for k, part in enumerate(state)]
    return [(label, state)]


def _bi_flat(out, name, cell):
    dxs, dstates, grads_fw, grads_bw = _tuple(out, 4, name, "(dxs, (dstate0_fw, dstate0_bw), grads_fw, grads_bw)")
    dstates = _tuple(dstates, 2, name, "(dstate0_fw, dstate0_bw) as its second item")
    flat = {"dxs": _array(dxs, "dxs", name)}
    for label, state in (("dstate0_fw", dstates[0]), ("dstate0_bw", dstates[1])):
        flat.update({k: _array(v, k, name) for k, v in _state_arrays(state, label)})
    for label, grads in (("grads_fw", grads_fw), ("grads_bw", grads_bw)):
        flat.update({f"{label}[{k[1:]!r}]": v for k, v in _grads(grads, cell.keys, label, name).items()})
    return flat


def _bi_backward_hint(case, expected, got):
    dhs, (cell, cache_fw, cache_bw, H_fw) = case.args
    fw_right = all(close(got[k], expected[k]) for k in expected if "_fw" in k)
    bw_wrong = any(not close(got[k], expected[k]) for k in expected if "_bw" in k)
    if fw_right and bw_wrong:
        unreversed = cell.backward(dhs[:, H_fw:], cache_bw)[2]
        if all(close(got[f"grads_bw[{k!r}]"], unreversed[k]) for k in cell.keys):
            return ("the backward direction ran on the reversed sequence, so its dJ/dh_t must be reversed too: "
                    "cell.backward(dhs[::-1, H_fw:], cache_bw).")
    if fw_right and not bw_wrong and not close(got["dxs"], expected["dxs"]):
        dxs_bw = cell.backward(dhs[::-1, H_fw:], cache_bw)[0]
        if close(got["dxs"], cell.backward(dhs[:, :H_fw], cache_fw)[0] + dxs_bw):
            return ("the backward direction's dxs are in reversed time order (it read x_T first): reverse them "
                    "(dxs_bw[::-1]) before adding them to the forward direction's.")
        return "dJ/dx_t is the sum of the two directions' gradients, both in time order."
    if not fw_right and bw_wrong:
        return ("rows [:H_fw] of dhs belong to the forward direction and rows [H_fw:] to the backward one; "
                "H_fw is cache[3].")


def _bi_split_hint(case, err):
    if isinstance(err, ValueError) and "shape" in str(err):
        return ("rows [:H_fw] of dhs belong to the forward direction and rows [H_fw:] to the backward one, with "
                "H_fw = cache[3]: the two directions may have different numbers of units.")


@exercise(ASSIGNMENT, points=8, reference=bi.bidirectional_backward)
def check_bidirectional_backward(bidirectional_backward, seed: int = 0, hidden: bool = False) -> None:
    """(dxs, (dstate0_fw, dstate0_bw), grads_fw, grads_bw) from dhs and the reference forward's cache."""
    require_function(bidirectional_backward, "bidirectional_backward")
    name = "bidirectional_backward"
    rng = np.random.default_rng(seed)
    inputs = _bi_inputs(rng, hidden)
    cases, expected = [], []
    for label, xs, pf, pb, cell in inputs:
        hs, cache = bi.bidirectional_forward(xs, pf, pb, cell)
        dhs = rng.normal(size=hs.shape)
        cases.append(Case(f"{label}, random dhs", (dhs, cache)))
        expected.append(_bi_flat(bi.bidirectional_backward(dhs, cache), "the reference", cell))
    caught = []
    for case, exp, (_, _, _, _, cell) in zip(cases, expected, inputs):
        caught = verify_named(lambda *a, cell=cell: _bi_flat(bidirectional_backward(*a), name, cell), name, [case],
                              [exp], hints=(_bi_backward_hint,), error_hints=(_bi_split_hint,), caught=caught)
    if hidden:
        label, xs, pf, pb, cell = inputs[1]
        dhs, cache = cases[1].args
        got = call_student(bidirectional_backward, name, Case("finite differences", (dhs, cache)), caught)
        dxs, _, grads_fw, grads_bw = _tuple(got, 4, name, "(dxs, dstates, grads_fw, grads_bw)")

        def J(p):
            fw = {k: p[f"{k} (forward)"] for k in cell.keys}
            bw = {k: p[f"{k} (backward)"] for k in cell.keys}
            return float(np.sum(dhs * bi.bidirectional_forward(p["xs"], fw, bw, cell)[0]))
        check_gradients(name, J, {"xs": xs, **{f"{k} (forward)": v for k, v in pf.items()},
                                  **{f"{k} (backward)": v for k, v in pb.items()}},
                        {"xs": dxs, **{f"{k} (forward)": v for k, v in grads_fw.items()},
                         **{f"{k} (backward)": v for k, v in grads_bw.items()}})
    passed(name, len(cases) + hidden, caught)
