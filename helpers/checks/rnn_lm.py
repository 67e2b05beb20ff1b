"""Checks for the exercises of 04_rnn_lm_gradients: the RNN step and sequence, backpropagation through time,
the RNN language model's loss, the product of Jacobians, gradient clipping, and truncated-BPTT windows.

The students write the plain tanh RNN of the lecture, without the reference's ``activation`` option, and
their caches are the simplest that hold everything the backward pass needs:

- ``rnn_step_forward(x, h_prev, params) -> (h, cache)`` with the reference's cache ``(x, h_prev, h, params, "tanh")``;
- ``rnn_forward(xs, h0, params) -> (hs, cache)`` with cache the list of the T step caches, which the
  reference rnn_backward also accepts (its own rnn_forward keeps a vectorised cache);
- ``gradient_norms_through_time(hs, Wh, g)`` for hs (T, H) and g (H,) of one sequence.

Every backward pass is also compared with central finite differences in the hidden tests.
"""
from __future__ import annotations

import numpy as np

from .. import clipping
from .. import rnn as ref
from .. import rnn_lm as lm
from ..gradcheck import numerical_gradient
from ..losses import softmax_cross_entropy
from .exercises import exercise
from .framework import Case, CheckFailure, call_student, check_gradients, close, passed, run_check, using_reference, \
    verify_cases

STEP_CACHE = '(x, h_prev, h, params, "tanh")'
RNN_KEYS = ("Wx", "Wh", "b")
LM_KEYS = ("E", "Wx", "Wh", "b", "U", "b2")


# ---------------------------------------------------------------- the cache of a sequence


def sequence_cache(xs, h0, params):
    """The students' rnn_forward cache: the list of the T caches (x_t, h_{t-1}, h_t, params, "tanh") of the steps."""
    cache, h = [], h0
    for x in xs:
        h, step = ref.rnn_step_forward(x, h, params)
        cache.append(step)
    return cache


def _is_reference_cache(cache):
    """Whether ``cache`` is the reference rnn_forward's own (X (D, T N), states (H, T + 1, N), params, activation)."""
    return isinstance(cache, tuple) and len(cache) == 4 and isinstance(cache[0], np.ndarray) and cache[0].ndim == 2 \
        and isinstance(cache[1], np.ndarray) and cache[1].ndim == 3


# ---------------------------------------------------------------- inputs


def _rnn_params(rng, D, H, scale=1.0):
    return {"Wx": rng.normal(scale=scale, size=(H, D)), "Wh": rng.normal(scale=0.5 * scale, size=(H, H)),
            "b": rng.normal(scale=0.5, size=(H, 1))}


def _step_cases(rng, hidden):
    settings = [("D=3, H=4, N=5", 3, 4, 5, 1.0), ("one example: D=2, H=3, N=1", 2, 3, 1, 1.0),
                ("D=4, H=2, N=3", 4, 2, 3, 1.0)]
    if hidden:
        settings += [(f"random sizes {i}", *(int(v) for v in rng.integers(1, 7, size=3)), 1.0) for i in range(2)]
        settings.append(("large weights (tanh saturates): D=3, H=4, N=2", 3, 4, 2, 30.0))
    cases = []
    for label, D, H, N, scale in settings:
        params = _rnn_params(rng, D, H, scale)
        cases.append(Case(f"{label}", (rng.normal(size=(D, N)), np.tanh(rng.normal(size=(H, N))), params)))
    return cases


def _sequence_cases(rng, hidden):
    settings = [("T=5, D=3, H=4, N=2", 5, 3, 4, 2, 1.0), ("T=1 (one step), D=2, H=3, N=3", 1, 2, 3, 3, 1.0),
                ("T=6, D=2, H=3, N=1", 6, 2, 3, 1, 1.0)]
    if hidden:
        settings += [(f"random sizes {i}", *(int(v) for v in rng.integers(1, 8, size=4)), 1.0) for i in range(2)]
        settings.append(("T=5 with large weights (tanh saturates), D=3, H=4, N=2", 5, 3, 4, 2, 30.0))
    cases = []
    for label, T, D, H, N, scale in settings:
        params = _rnn_params(rng, D, H, scale)
        cases.append(Case(label, (rng.normal(size=(T, D, N)), np.tanh(rng.normal(size=(H, N))), params)))
    return cases


def _pair(out, name, what):
    """out as a pair, or a CheckFailure that says what the function must return."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise CheckFailure(f"{name} must return a pair {what}; received {type(out).__name__}"
                           + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
    return out


def _grads(grads, keys, name, what="grads"):
    """The arrays of the dict ``grads`` in the order of ``keys``, or a CheckFailure naming what is missing."""
    if not isinstance(grads, dict):
        raise CheckFailure(f"{name} must return {what} as a dict with keys {list(keys)}; received "
                           f"{type(grads).__name__}")
    missing = [k for k in keys if k not in grads]
    if missing:
        raise CheckFailure(f"{name}: {what} lacks the keys {missing} (received keys {list(grads)}); the gradients "
                           f"come back as a dict with the names of the parameters")
    return tuple(grads[k] for k in keys)


# ---------------------------------------------------------------- one step


@exercise("04_rnn_lm_gradients", points=8, reference=ref.rnn_step_forward)
def check_rnn_step_forward(rnn_step_forward, seed: int = 0, hidden: bool = False) -> None:
    """h = tanh(W_h h_prev + W_x x + b) -> (h (H, N), cache (x, h_prev, h, params, "tanh"))."""
    cases = _step_cases(np.random.default_rng(seed), hidden)
    name = "rnn_step_forward"

    def outputs(x, h_prev, params):
        __tracebackhide__ = True
        out = rnn_step_forward(x, h_prev, params)
        if out is None:
            return None
        h, cache = _pair(out, name, "(h, cache)")
        _step_cache(cache, name, "its cache")
        return (h, *cache[:3], *(cache[3][k] for k in RNN_KEYS))

    def reference(x, h_prev, params):
        h, _ = ref.rnn_step_forward(x, h_prev, params)
        return (h, x, h_prev, h, *(params[k] for k in RNN_KEYS))

    def hint(case, expected, got):
        x, h_prev, p = case.args
        h = got[0]
        if close(h, np.tanh(p["Wh"] @ h_prev + p["Wx"] @ x)):
            return "the bias is missing: h = tanh(W_h h_prev + W_x x + b)."
        if close(h, p["Wh"] @ h_prev + p["Wx"] @ x + p["b"]):
            return "apply tanh to the pre-activation z = W_h h_prev + W_x x + b."
        if close(h, np.tanh(p["Wh"].T @ h_prev + p["Wx"] @ x + p["b"])):
            return "use W_h itself, not its transpose: W_h @ h_prev (the transpose belongs to the backward pass)."
        if close(h, 1 / (1 + np.exp(-(p["Wh"] @ h_prev + p["Wx"] @ x + p["b"])))):
            return "the lecture's RNN uses tanh, not the sigmoid: np.tanh."
        if close(h, expected[0]) and close(got[2], expected[3]) and close(got[3], expected[2]):
            return f"h and h_prev are swapped in the cache: its order is {STEP_CACHE}."
        if close(h, expected[0]):
            return f"h is right; the cache must hold {STEP_CACHE}: the inputs, the previous state, the new state."

    names = ("h", "cache[0] (x)", "cache[1] (h_prev)", "cache[2] (h)", "cache[3]['Wx']", "cache[3]['Wh']",
             "cache[3]['b']")
    run_check(outputs if callable(rnn_step_forward) else rnn_step_forward, reference, cases, name=name, names=names,
              hints=(hint,))


def _step_cache(cache, name, what):
    """Raise a CheckFailure unless ``cache`` is a step cache (x, h_prev, h, params, "tanh")."""
    if not isinstance(cache, tuple) or len(cache) != 5:
        raise CheckFailure(f"{name}: {what} must be the tuple {STEP_CACHE}; received {type(cache).__name__}"
                           + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""))
    if not isinstance(cache[3], dict) or any(not isinstance(c, np.ndarray) for c in cache[:3]):
        raise CheckFailure(f"{name}: {what} must be {STEP_CACHE}, in that order: three arrays, the dict params, "
                           f"the name of the activation")
    missing = [k for k in RNN_KEYS if k not in cache[3]]
    if missing:
        raise CheckFailure(f"{name}: {what}[3] must be the dict params with W_x, W_h and b; it lacks {missing}")
    if cache[4] != "tanh":
        raise CheckFailure(f"{name}: {what}[4] must be the name of the activation, \"tanh\", so that the backward "
                           f"pass finds everything it needs in the cache; received {cache[4]!r}")


def _backward_outputs(fn, name, keys=RNN_KEYS, first=("dx", "dh_prev")):
    """fn's (first..., grads) flattened to a tuple of arrays, after checking the format."""
    def outputs(*args):
        __tracebackhide__ = True
        out = fn(*args)
        if out is None:
            return None
        if not isinstance(out, (tuple, list)) or len(out) != len(first) + 1:
            raise CheckFailure(f"{name} must return ({', '.join(first)}, grads); received {type(out).__name__}"
                               + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
        return (*out[:-1], *_grads(out[-1], keys, name))
    return outputs if callable(fn) else fn


def _flat(result):
    """A reference backward's (arrays..., grads dict) as one tuple of arrays, grads in the order of RNN_KEYS."""
    return (*result[:-1], *(result[-1][k] for k in RNN_KEYS))


@exercise("04_rnn_lm_gradients", points=12, reference=ref.rnn_step_backward)
def check_rnn_step_backward(rnn_step_backward, seed: int = 0, hidden: bool = False) -> None:
    """(dx, dh_prev, {Wx, Wh, b}) from dh (H, N) and the cache (x, h_prev, h, params, "tanh") of one step."""
    rng = np.random.default_rng(seed)
    cases = []
    for c in _step_cases(rng, hidden):
        _, cache = ref.rnn_step_forward(*c.args)
        cases.append(Case(c.label, (rng.normal(size=cache[2].shape), cache)))
    name = "rnn_step_backward"

    def hint(case, expected, got):
        dh, (x, h_prev, h, p, _) = case.args
        dx, dh_prev, dWx, dWh, db = got
        for delta, text in (
                (dh * (1 - h_prev ** 2), "the tanh derivative uses the wrong state: f'(z) = 1 - h**2 with h the "
                                         "output of this step (cache[2]), not h_prev."),
                (dh * (1 - np.tanh(h) ** 2), "f'(z) = 1 - tanh(z)**2 = 1 - h**2: h is already tanh(z), do not apply "
                                             "tanh again."),
                (dh * (1 - h), "f'(z) = 1 - h**2 (squared)."),
                (dh, "the factor f'(z) = 1 - h**2 is missing: delta = dh * (1 - h**2), then the products.")):
            if close(dWx, delta @ x.T):
                return text
        delta = dh * (1 - h ** 2)
        if close(dh_prev, p["Wh"] @ delta) and not close(dh_prev, expected[1]):
            return "dh_prev = W_h^T delta: use the transpose, p['Wh'].T @ delta."
        if close(dWh, delta @ h.T):
            return "dW_h = delta h_prev^T: the state that W_h multiplied is h_prev (cache[1]), not h."
        if close(db, delta) and dh.shape[1] > 1:
            return "db must have the shape of b, (H, 1): sum delta over the batch, delta.sum(axis=1, keepdims=True)."

    caught = verify_cases(_backward_outputs(rnn_step_backward, name), lambda *a: _flat(ref.rnn_step_backward(*a)),
                          cases, name=name, names=("dx", "dh_prev", "dWx", "dWh", "db"), hints=(hint,))
    if hidden:
        dh, cache = cases[0].args
        x, h_prev, _, p, _ = cache
        inputs = {"x": x, "h_prev": h_prev, **p}
        dx, dh_prev, grads = call_student(rnn_step_backward, name, Case("finite differences", (dh, cache)), caught)
        check_gradients(name, lambda q: float(np.sum(dh * ref.rnn_step_forward(q["x"], q["h_prev"], q)[0])), inputs,
                        {"x": dx, "h_prev": dh_prev, **grads})
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- a sequence


@exercise("04_rnn_lm_gradients", points=8, reference=ref.rnn_forward)
def check_rnn_forward(rnn_forward, seed: int = 0, hidden: bool = False) -> None:
    """hs (T, H, N) of h_t = tanh(W_h h_{t-1} + W_x x_t + b) from h0, and the cache: the list of the T step caches.

    While it runs, rnn_step_forward is the reference one."""
    cases = _sequence_cases(np.random.default_rng(seed), hidden)
    name = "rnn_forward"

    def outputs(xs, h0, params):
        __tracebackhide__ = True
        out = rnn_forward(xs, h0, params)
        if out is None:
            return None
        hs, cache = _pair(out, name, "(hs, cache)")
        if _is_reference_cache(cache):   # the reference's own (vectorised) cache, which its rnn_backward reads
            X, states = cache[0], cache[1].transpose(1, 0, 2)                  # states: (T + 1, H, N)
            return hs, X.reshape(X.shape[0], len(xs), -1).transpose(1, 0, 2), states[:-1], states[1:]
        if not isinstance(cache, list) or len(cache) != len(xs):
            raise CheckFailure(f"{name}'s cache must be the list of the caches of the {len(xs)} steps, one per "
                               f"x_t; received {type(cache).__name__}"
                               + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""))
        for t, step in enumerate(cache):
            _step_cache(step, name, f"cache[{t}]")
        return (hs, *(np.stack([np.asarray(step[i]) for step in cache]) for i in range(3)))

    def reference(xs, h0, params):
        hs, _ = ref.rnn_forward(xs, h0, params)
        return hs, xs, np.concatenate([h0[None], hs[:-1]]), hs

    def hint(case, expected, got):
        xs, h0, p = case.args
        hs = np.asarray(got[0])
        if hs.shape == (len(xs) + 1, *h0.shape):
            return "hs holds h_1 ... h_T, one state per input: leave h0 out."
        if hs.shape == h0.shape:
            return "return every hidden state, stacked into hs of shape (T, H, N) (np.stack), not only the last."
        if hs.shape != expected[0].shape and hs.shape == (h0.shape[0], len(xs), h0.shape[1]):
            return "hs is time-major: hs[t] is the state after x_t, shape (T, H, N) (np.stack(list) stacks on axis 0)."
        from_h0 = np.stack([ref.rnn_step_forward(x, h0, p)[0] for x in xs])
        if close(hs, from_h0) and len(xs) > 1:
            return "every step must start from the previous step's state: carry h (h = the new h) through the loop."
        if close(hs, expected[0]):
            return f"hs is right; the cache must be the list of the step caches {STEP_CACHE}, in time order."

    with using_reference(rnn_forward, rnn_step_forward=ref.rnn_step_forward):
        run_check(outputs if callable(rnn_forward) else rnn_forward, reference, cases, name=name,
                  names=("hs", "the x of the step caches", "the h_prev of the step caches",
                         "the h of the step caches"), hints=(hint,))


@exercise("04_rnn_lm_gradients", points=16, reference=ref.rnn_backward)
def check_rnn_backward(rnn_backward, seed: int = 0, hidden: bool = False) -> None:
    """Backpropagation through time: (dxs (T, D, N), dh0 (H, N), {Wx, Wh, b} summed over the steps) from
    dhs (T, H, N) = dJ/dh_t from above and the cache of rnn_forward (the list of step caches).

    While it runs, rnn_step_backward is the reference one."""
    rng = np.random.default_rng(seed)
    cases = []
    for c in _sequence_cases(rng, hidden):
        xs, h0, params = c.args
        dhs = rng.normal(size=(len(xs), *h0.shape))
        cases.append(Case(c.label + ", dJ/dh_t at every step", (dhs, sequence_cache(xs, h0, params))))
        if len(xs) > 2:
            last_only = np.zeros_like(dhs)
            last_only[-1] = dhs[-1]
            cases.append(Case(c.label + ", a loss at the last step only (dhs[t] = 0 for t < T - 1)",
                              (last_only, sequence_cache(xs, h0, params))))
    name = "rnn_backward"

    def reference(dhs, cache):
        return _flat(ref.rnn_backward(dhs, cache))

    def hint(case, expected, got):
        dhs, cache = case.args
        T = len(cache)
        dWh = got[3]
        steps, dh_next = [None] * T, np.zeros_like(dhs[0])
        for t in reversed(range(T)):
            steps[t] = ref.rnn_step_backward(dhs[t] + dh_next, cache[t])
            dh_next = steps[t][1]
        if T > 1 and any(close(dWh, s[2]["Wh"]) for s in steps) and not close(dWh, expected[3]):
            return ("the weight gradients are those of a single step: W_h, W_x and b are used at every step, so "
                    "their gradients are sums over all steps. Start from zeros and add each step's gradients "
                    "(grads[k] += step_grads[k]), do not assign them.")
        alone = [ref.rnn_step_backward(dhs[t], cache[t]) for t in range(T)]
        if T > 1 and close(got[0], np.stack([a[0] for a in alone])):
            return ("dh_next is not added: dJ/dh_t = dhs[t] (from the output at step t) + dh_next (from step t + 1, "
                    "the dh_prev of the step after it). Pass dhs[t] + dh_next to rnn_step_backward.")
        forward_order, dh_next = [None] * T, np.zeros_like(dhs[0])
        for t in range(T):
            forward_order[t] = ref.rnn_step_backward(dhs[t] + dh_next, cache[t])
            dh_next = forward_order[t][1]
        if T > 1 and close(got[0], np.stack([s[0] for s in forward_order])):
            return ("go backwards in time, t = T-1 down to 0 (reversed(range(T))): dJ/dh_t needs dh_next from step "
                    "t + 1 first.")
        if close(got[0], expected[0]) and not close(got[1], expected[1]):
            return "dh0 is the dh_prev of the first step (t = 0), returned after the loop."

    with using_reference(rnn_backward, rnn_step_backward=ref.rnn_step_backward):
        caught = verify_cases(_backward_outputs(rnn_backward, name, first=("dxs", "dh0")), reference, cases, name=name,
                              names=("dxs", "dh0", "dWx", "dWh", "db"), hints=(hint,))
        if hidden:
            dhs, cache = cases[0].args
            xs, h0, params = np.stack([c[0] for c in cache]), cache[0][1], cache[0][3]
            dxs, dh0, grads = call_student(rnn_backward, name, Case("finite differences", (dhs, cache)), caught)
            check_gradients(name, lambda q: float(np.sum(dhs * ref.rnn_forward(q["xs"], q["h0"], q)[0])),
                            {"xs": xs, "h0": h0, **{k: params[k] for k in RNN_KEYS}}, {"xs": dxs, "h0": dh0, **grads})
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- the language model


def _lm_cases(rng, hidden):
    settings = [("V=7, D=3, H=4, T=4, N=3", 7, 3, 4, 4, 3), ("V=5, D=2, H=3, T=1, N=2", 5, 2, 3, 1, 2),
                ("V=9, D=4, H=3, T=6, N=1", 9, 4, 3, 6, 1)]
    if hidden:
        settings += [(f"random sizes {i}", *(int(v) for v in rng.integers(2, 9, size=5))) for i in range(2)]
    cases = []
    for label, V, D, H, T, N in settings:
        params = lm.init_lm(V, D, H, seed=int(rng.integers(1000)))
        params["E"], params["U"] = rng.normal(size=(D, V)), rng.normal(size=(V, H))
        params["b"], params["b2"] = rng.normal(scale=0.5, size=(H, 1)), rng.normal(scale=0.5, size=(V, 1))
        ids = rng.integers(0, V, size=(T + 1, N))
        if T > 1:
            ids[1] = ids[0]  # a word read twice
        cases.append(Case(f"{label} (words read more than once)", (params, ids, np.tanh(rng.normal(size=(H, N))))))
    return cases


@exercise("04_rnn_lm_gradients", points=16, reference=lm.rnn_lm_loss)
def check_rnn_lm_loss(rnn_lm_loss, seed: int = 0, hidden: bool = False) -> None:
    """(J, grads {E, Wx, Wh, b, U, b2}, h_last): inputs ids[:-1], targets ids[1:], J the mean over the T N predictions.

    While it runs, rnn_forward, rnn_backward and the step functions are the reference ones (the sequence
    functions with the reference's own cache, which the backward pass reads)."""
    cases = _lm_cases(np.random.default_rng(seed), hidden)
    name = "rnn_lm_loss"

    def outputs(params, ids, h0):
        __tracebackhide__ = True
        out = rnn_lm_loss(params, ids, h0)
        if out is None:
            return None
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise CheckFailure(f"{name} must return (J, grads, h_last); received {type(out).__name__}"
                               + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
        return (out[0], *_grads(out[1], LM_KEYS, name), out[2])

    def reference(params, ids, h0):
        J, grads, h_last = lm.rnn_lm_loss(params, ids, h0)
        return (J, *(grads[k] for k in LM_KEYS), h_last)

    def hint(case, expected, got):
        params, ids, h0 = case.args
        T, N = ids.shape[0] - 1, ids.shape[1]
        J = float(np.asarray(got[0]))
        if np.isclose(J, expected[0] * T * N) and T * N > 1:
            return f"J is the sum over the T N = {T * N} predictions; the loss is their mean, J = (1/(T N)) sum."
        if np.isclose(J, expected[0] * T) and T > 1:
            return "J must be the mean over all T N predictions: you averaged over the batch but summed over time."
        if np.isclose(J, expected[0] * N) and N > 1:
            return "J must be the mean over all T N predictions: you averaged over time but summed over the batch."
        read_all, _ = ref.rnn_forward(params["E"][:, ids].transpose(1, 0, 2), h0, params)
        if close(got[-1], read_all[-1]) and not close(got[-1], expected[-1]):
            return ("h_last is the state after reading the last token ids[-1]; that token is only a target. Read "
                    "the inputs ids[:-1] only: the next window starts by reading ids[-1] itself.")
        same, _, _ = lm.sequence_loss(params, ids[:-1], ids[:-1], h0)
        if np.isclose(J, same):
            return "the targets are the next words, ids[1:]: at step t the model predicts ids[t + 1], not ids[t]."
        g = dict(zip(LM_KEYS, got[1:-1]))
        e = dict(zip(LM_KEYS, expected[1:-1]))
        if all(close(g[k], e[k]) for k in LM_KEYS if k != "E"):
            return ("only dE is wrong. A word read several times gets the sum of the gradients of all its "
                    "positions: accumulate with np.add.at, do not assign.")
        if not close(g["U"], e["U"]) and close(g["U"], e["U"] * T * N):
            return "the gradients carry the 1/(T N) of the mean: dscores = (softmax - onehot) / (T N)."

    replaced = {"rnn_forward": ref.rnn_forward, "rnn_backward": ref.rnn_backward,
                "rnn_step_forward": ref.rnn_step_forward, "rnn_step_backward": ref.rnn_step_backward,
                "softmax_cross_entropy": softmax_cross_entropy}
    with using_reference(rnn_lm_loss, **replaced):
        caught = verify_cases(outputs if callable(rnn_lm_loss) else rnn_lm_loss, reference, cases, name=name,
                              names=("J", "dE", "dWx", "dWh", "db", "dU", "db2", "h_last"), hints=(hint,))
        if hidden:
            params, ids, h0 = cases[0].args
            _, grads, _ = call_student(rnn_lm_loss, name, Case("finite differences", (params, ids, h0)), caught)
            check_gradients(name, lambda q: lm.rnn_lm_loss(q, ids, h0)[0], dict(params), grads)
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- vanishing and exploding gradients


def _norms_cases(rng, hidden):
    settings = [("T=5, H=3", 5, 3, 1.0), ("T=8, H=4, W_h not symmetric", 8, 4, 1.5), ("T=1, H=2", 1, 2, 1.0)]
    if hidden:
        settings += [("T=30, H=6, large W_h (tanh saturates)", 30, 6, 3.0), ("T=12, H=5", 12, 5, 0.8)]
    cases = []
    for label, T, H, scale in settings:
        params = {"Wx": rng.normal(size=(H, H)), "Wh": rng.normal(scale=scale / np.sqrt(H), size=(H, H)),
                  "b": rng.normal(scale=0.3, size=(H, 1))}
        hs, _ = ref.rnn_forward(rng.normal(size=(T, H, 1)), np.zeros((H, 1)), params)
        cases.append(Case(f"{label}: hs of a tanh RNN, g random", (hs[:, :, 0].copy(), params["Wh"],
                                                                  rng.normal(size=H))))
    return cases


def _norms(hs, Wh, g, derivative, transpose=True, after=False):
    """Norms of the backward recursion with a chosen (wrong) derivative(k) and order, for the hints."""
    T = len(hs)
    out = np.empty(T)
    M = Wh.T if transpose else Wh
    for k in range(T):
        out[k] = np.linalg.norm(g)
        if k < T - 1:
            g = derivative(k) * (M @ g) if after else M @ (derivative(k) * g)
    return out


@exercise("04_rnn_lm_gradients", points=10, reference=ref.gradient_norms_through_time)
def check_gradient_norms_through_time(gradient_norms_through_time, seed: int = 0, hidden: bool = False) -> None:
    """norms (T,): norms[k] = ||dJ/dh_{T-k}||, from g = dJ/dh_T by dJ/dh_{t-1} = W_h^T ((1 - h_t^2) * dJ/dh_t).

    The students' version takes hs (T, H) of one sequence and g (H,), for the tanh RNN; the hidden tests
    also compare every norm with the norm of a gradient computed by central finite differences."""
    rng = np.random.default_rng(seed)
    cases = _norms_cases(rng, hidden)
    name = "gradient_norms_through_time"

    def hint(case, expected, got):
        hs, Wh, g = case.args
        T, norms = len(hs), np.asarray(got[0])
        if norms.shape != (T,):
            return f"return one norm per step: an array of shape ({T},), norms[k] = ||dJ/dh_(T-k)||."
        right = lambda k: 1 - hs[T - 1 - k] ** 2  # noqa: E731 (f'(z_t) with h_t, t = T - k)
        wrong = lambda k: 1 - hs[T - 2 - k] ** 2  # noqa: E731 (with h_{t-1})
        if T > 1 and close(norms, _norms(hs, Wh, g, wrong)):
            return ("the wrong h in the tanh derivative: going from dJ/dh_t to dJ/dh_(t-1) multiplies by "
                    "(1 - h_t**2), the derivative of the step that made h_t, i.e. hs[T - 1 - k] for norms[k + 1].")
        if T > 1 and close(norms, _norms(hs, Wh, g, right, transpose=False)):
            return "the Jacobian's transpose: dJ/dh_(t-1) = W_h^T (...), Wh.T @ (...), not Wh @ (...)."
        if T > 1 and close(norms, _norms(hs, Wh, g, wrong, after=True)):
            return ("the order of the factors: dJ/dh_(t-1) = W_h^T ((1 - h_t**2) * dJ/dh_t): the derivative first, "
                    "then W_h^T.")
        if T > 1 and close(norms, expected[0][::-1]):
            return "the order: norms[0] is ||dJ/dh_T|| = ||g||, then further and further back (t = T, T-1, ..., 1)."
        if T > 1 and not np.isclose(norms[0], np.linalg.norm(g)):
            return "norms[0] is ||dJ/dh_T|| = ||g|| itself, before any Jacobian is applied."

    caught = verify_cases(gradient_norms_through_time, lambda hs, Wh, g: ref.gradient_norms_through_time(hs, Wh, g),
                          cases, name=name, hints=(hint,), rtol=1e-6, atol=1e-12)
    if hidden:
        caught += _norms_against_differences(gradient_norms_through_time, name, rng)
    passed(name, len(cases) + hidden, caught)


def _norms_against_differences(fn, name, rng, T=6, H=4):
    """The student's norms against ||dJ/dh_t|| by central differences, J = g^T h_T, rerunning the RNN from h_t."""
    params = {"Wx": rng.normal(size=(H, H)), "Wh": rng.normal(scale=0.8, size=(H, H)),
              "b": rng.normal(scale=0.3, size=(H, 1))}
    xs, g = rng.normal(size=(T, H, 1)), rng.normal(size=H)
    hs, _ = ref.rnn_forward(xs, np.zeros((H, 1)), params)
    caught = []
    norms = np.asarray(call_student(fn, name, Case("finite differences", (hs[:, :, 0].copy(), params["Wh"], g)),
                                    caught), dtype=float)
    for t in range(T):  # hs[t] = h_{t+1}; J depends on it through the steps t+1 ... T-1
        def J(p, t=t):
            h = p["h"]
            if t + 1 < T:
                h = ref.rnn_forward(xs[t + 1:], h, params)[0][-1]
            return float(g @ h[:, 0])
        numeric = np.linalg.norm(numerical_gradient(J, {"h": hs[t].copy()})["h"])
        k = T - 1 - t
        if norms.shape != (T,) or not np.isclose(norms[k], numeric, rtol=1e-5, atol=1e-9):
            got = norms[k] if norms.shape == (T,) else f"an array of shape {norms.shape}"
            raise CheckFailure(f"{name} disagrees with finite differences: ||dJ/dh_{t + 1}|| (norms[{k}]) is "
                               f"{got} by your function but {numeric:.8g} by (J(h+e) - J(h-e)) / 2e, with "
                               f"J = g^T h_T, on an RNN of T = {T} steps, H = {H}.")
    return caught


# ---------------------------------------------------------------- clipping


def _clip_cases(rng, hidden, threshold):
    """Dicts of gradients and a threshold; ``threshold`` names it in the labels ("max_norm" or "value")."""
    shapes = {"Wx": (3, 2), "Wh": (3, 3), "b": (3, 1)}

    def grads(scale, dtype=np.float64, keys=shapes):
        return {k: (scale * rng.normal(size=keys[k])).astype(dtype) for k in keys}

    big = grads(4.0)
    cases = [Case(f"gradients Wx (3, 2), Wh (3, 3), b (3, 1) of global norm {clipping.global_norm(big):.3g}, "
                  f"{threshold} 1.0", (big, 1.0)),
             Case(f"small gradients (global norm about 0.3), {threshold} 5.0: nothing to clip", (grads(0.1), 5.0)),
             Case(f"float32 gradients, {threshold} 0.5", (grads(2.0, np.float32), 0.5))]
    if hidden:
        lm_shapes = {"E": (4, 9), "Wx": (5, 4), "Wh": (5, 5), "b": (5, 1), "U": (9, 5), "b2": (9, 1)}
        cases += [Case(f"the six gradients of an LM, W_h's exploded to 1000 in every entry, {threshold} 5.0",
                       ({**grads(1.0, keys=lm_shapes), "Wh": np.full((5, 5), 1e3)}, 5.0)),
                  Case(f"a gradient of zeros, {threshold} 1.0", ({"W": np.zeros((2, 3))}, 1.0)),
                  Case(f"one gradient W (4, 4), {threshold} 0.01", ({"W": rng.normal(size=(4, 4))}, 0.01))]
    return cases


def _clip_outputs(fn, name, with_norm):
    """fn's clipped dict (and total_norm) as a tuple of arrays in the order of the input keys."""
    def outputs(grads, threshold):
        __tracebackhide__ = True
        out = fn(grads, threshold)
        if out is None:
            return None
        if with_norm:
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise CheckFailure(f"{name} must return (clipped, total_norm); received {type(out).__name__}"
                                   + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
            clipped, total = out
        else:
            clipped, total = out, None
        return _single(_grads(clipped, tuple(grads), name, "the clipped gradients") + ((total,) if with_norm else ()))
    return outputs if callable(fn) else fn


def _single(outputs):
    """One output is returned alone (verify_cases reads a tuple as several outputs)."""
    return outputs[0] if len(outputs) == 1 else outputs


def _cosine(a, b):
    a, b = np.concatenate([np.ravel(x) for x in a]), np.concatenate([np.ravel(x) for x in b])
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@exercise("04_rnn_lm_gradients", points=10, reference=clipping.clip_by_global_norm)
def check_clip_by_global_norm(clip_by_global_norm, seed: int = 0, hidden: bool = False) -> None:
    """(clipped, total_norm): every gradient times max_norm / ||g|| when the norm ||g|| of all of them together
    exceeds max_norm, else unchanged; total_norm = ||g|| before clipping."""
    cases = _clip_cases(np.random.default_rng(seed), hidden, "max_norm")
    name = "clip_by_global_norm"

    def reference(grads, max_norm):
        clipped, total = clipping.clip_by_global_norm(grads, max_norm)
        return (*(clipped[k] for k in grads), total)

    def hint(case, expected, got):
        grads, max_norm = case.args
        arrays, total = got[:-1], float(np.asarray(got[-1]))
        values = list(grads.values())
        norm = clipping.global_norm(grads)
        if all(close(a, np.clip(g, -max_norm, max_norm)) for a, g in zip(arrays, values)):
            return ("that is clipping by value, which changes the direction of the step (the cosine between the "
                    f"gradient and the clipped one is {_cosine(values, arrays):.3f}, not 1). Norm clipping scales "
                    "every gradient by the same factor max_norm / ||g||.")
        own = [g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-300)) for g in values]
        if len(values) > 1 and all(close(a, o) for a, o in zip(arrays, own)):
            return ("each array was clipped by its own norm, which changes the direction of the whole step: use the "
                    "global norm ||g|| = sqrt(sum of the squares of all the arrays' elements together).")
        if norm > 0 and all(close(a, g * max_norm / norm) for a, g in zip(arrays, values)) and norm < max_norm:
            return (f"below the threshold nothing changes: ||g|| = {norm:.4g} <= max_norm = {max_norm}, so return the "
                    "gradients unchanged (scale by min(1, max_norm / ||g||)).")
        if np.isclose(total, norm ** 2):
            return "total_norm is the square root of the sum of squares: ||g|| = sqrt(sum g**2)."
        if np.isclose(total, min(norm, max_norm)) and norm > max_norm:
            return "total_norm is ||g|| before clipping (the trainer records it to show the explosions)."
        if norm > 0 and min(_cosine(values, arrays), 1.0) < 1 - 1e-6:
            return (f"the clipped gradient must point the same way as the gradient (the cosine between them is "
                    f"{_cosine(values, arrays):.3f}): multiply every array by the same number.")

    _run_clip_check(clip_by_global_norm, name, cases, reference, hint, True)


def _run_clip_check(fn, name, cases, reference, hint, with_norm):
    """The cases have different keys: one verify_cases each (the names of the outputs follow the keys)."""
    caught = []
    for case in cases:
        caught += verify_cases(_clip_outputs(fn, name, with_norm), reference, [case], name=name,
                               names=tuple(f"clipped['{k}']" for k in case.args[0]) + (("total_norm",) * with_norm),
                               hints=(hint,), mutation_hint="Return new arrays (g * scale, np.clip(...)); do not "
                                                            "change the gradients in place (no *=, no out=).")
    passed(name, len(cases), caught)


@exercise("04_rnn_lm_gradients", points=6, reference=clipping.clip_by_value)
def check_clip_by_value(clip_by_value, seed: int = 0, hidden: bool = False) -> None:
    """{name: every element of the gradient clipped into [-value, value]}."""
    cases = _clip_cases(np.random.default_rng(seed), hidden, "value")
    name = "clip_by_value"

    def reference(grads, value):
        clipped = clipping.clip_by_value(grads, value)
        return _single(tuple(clipped[k] for k in grads))

    def hint(case, expected, got):
        grads, value = case.args
        values = list(grads.values())
        if all(close(a, np.minimum(g, value)) for a, g in zip(got, values)):
            return "negative entries must be clipped too: into [-value, value], np.clip(g, -value, value)."
        if all(close(a, np.clip(g, 0, value)) for a, g in zip(got, values)):
            return "the range is [-value, value]: negative entries stay negative."
        clipped, _ = clipping.clip_by_global_norm(grads, value)
        if all(close(a, clipped[k]) for a, k in zip(got, grads)):
            return "that is clipping by norm; this exercise clips every element separately into [-value, value]."

    _run_clip_check(clip_by_value, name, cases, reference, hint, False)


# ---------------------------------------------------------------- truncated BPTT


def _tbptt_cases(rng, hidden):
    settings = [("stream 0, 1, ..., 22 (L = 23), N = 2 streams, T = 3", np.arange(23), 2, 3),
                ("stream 0, 1, ..., 29 (L = 30), N = 3, T = 4 (ids left over)", np.arange(30), 3, 4),
                ("stream 0, 1, ..., 9, N = 1, T = 9 (one window)", np.arange(10), 1, 9),
                ("40 random word ids, N = 4, T = 2", rng.integers(0, 50, size=40), 4, 2)]
    if hidden:
        settings += [("stream 0, 1, ..., 99, N = 5, T = 1", np.arange(100), 5, 1),
                     ("257 random word ids, N = 8, T = 6", rng.integers(0, 1000, size=257), 8, 6)]
    return [Case(label, (stream, N, T)) for label, stream, N, T in settings]


@exercise("04_rnn_lm_gradients", points=14, reference=lm.tbptt_batches)
def check_tbptt_batches(tbptt_batches, seed: int = 0, hidden: bool = False) -> None:
    """(K, T + 1, N) windows: N consecutive pieces of M = L // N ids as columns, window k = positions kT ... kT + T
    of every piece, K = (M - 1) // T."""
    cases = _tbptt_cases(np.random.default_rng(seed), hidden)
    name = "tbptt_batches"

    def windows(pieces, T, stride, length, K):
        return np.stack([pieces[k * stride:k * stride + length] for k in range(K)])

    def hint(case, expected, got):
        stream, N, T = case.args
        w = np.asarray(got[0])
        M = len(stream) // N
        pieces = stream[:N * M].reshape(N, M).T
        K = (M - 1) // T
        if w.ndim == 3 and w.shape[1] == T and w.shape[2] == N:
            return ("a window holds T + 1 ids: T inputs and, for the last of them, the next word as its target "
                    "(inputs window[:-1], targets window[1:]).")
        interleaved = stream[:N * M].reshape(M, N)
        if w.shape == expected[0].shape and close(w, windows(interleaved, T, T, T + 1, K)):
            return ("column n must be one contiguous piece of the stream (ids n M ... n M + M - 1), so that it reads "
                    "on from one window to the next: stream[:N * M].reshape(N, M).T, not reshape(M, N).")
        K1 = (M - 1) // (T + 1)
        if K1 and w.shape[0] == K1 and w.shape[1:] == expected[0].shape[1:] \
                and close(w, windows(pieces, T, T + 1, T + 1, K1)):
            return ("the windows do not overlap, so a token is skipped at every seam: the last id of window k "
                    "(only a target there) must be the first input of window k + 1. Start window k at k T, not "
                    "k (T + 1).")
        if T > 1 and w.ndim == 3 and w.shape[1:] == expected[0].shape[1:] and w.shape[0] > 1 \
                and close(w[:2], windows(pieces, T, T - 1, T + 1, 2)):
            return ("consecutive windows share two ids, so a token is read and predicted twice at every seam: "
                    "window k starts at k T, where window k - 1 ends.")
        if w.ndim == 3 and w.shape[1:] == expected[0].shape[1:] and w.shape[0] != K:
            return (f"K = (M - 1) // T = {K} windows (M = L // N = {M} ids per piece; the first id of a piece is "
                    f"only read, and every window adds T targets); received {w.shape[0]}.")

    run_check(tbptt_batches, lm.tbptt_batches, cases, name=name, hints=(hint,), rtol=0, atol=0.1)  # ids: exact
