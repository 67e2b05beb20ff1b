"""helpers.checks.rnn_lm (the checks of 04_rnn_lm_gradients): every check passes the reference and the students'
solution (with the simple signatures and caches the notebook asks for) with one line and nothing on stderr,
visible and hidden, for several seeds; each usual mistake of the issue fails with its hint, visible and hidden;
mistakes only the hidden tests see; generic failures; the progress table of 04; the reference rnn_backward
reads the students' cache (the list of step caches); yours_or_reference accepts a tool imported from helpers."""
import inspect

import numpy as np
import pytest
from conftest import assert_fails_naming, assert_grading_mistake_caught, one_success_line

import helpers.checks as checks
from helpers import clipping
from helpers import rnn as R
from helpers import rnn_lm as lm
from helpers.checks import EXERCISES, CheckFailure, progress, yours_or_reference
from helpers.gradcheck import gradcheck
from helpers.losses import softmax_cross_entropy
from mistakes import MISTAKES as GRADING_MISTAKES

ASSIGNMENT = "04_rnn_lm_gradients"
REFERENCE = {name: e.reference for name, e in EXERCISES[ASSIGNMENT].items()}
CHECKS = {name: e.check for name, e in EXERCISES[ASSIGNMENT].items()}


# ---------------------------------------------------------------- the students' solution, as the notebook asks


def rnn_step_forward(x, h_prev, params):
    h = np.tanh(params["Wh"] @ h_prev + params["Wx"] @ x + params["b"])
    return h, (x, h_prev, h, params, "tanh")


def rnn_step_backward(dh, cache):
    x, h_prev, h, params, _ = cache
    delta = dh * (1.0 - h ** 2)
    return params["Wx"].T @ delta, params["Wh"].T @ delta, {"Wx": delta @ x.T, "Wh": delta @ h_prev.T,
                                                            "b": delta.sum(axis=1, keepdims=True)}


def rnn_forward(xs, h0, params):
    h, hs, cache = h0, [], []
    for x in xs:
        h, step = rnn_step_forward(x, h, params)
        hs.append(h)
        cache.append(step)
    return np.stack(hs), cache


def rnn_backward(dhs, cache):
    grads = {k: np.zeros_like(cache[0][3][k]) for k in ("Wx", "Wh", "b")}
    dxs, dh_next = [None] * len(cache), np.zeros_like(dhs[0])
    for t in reversed(range(len(cache))):
        dxs[t], dh_next, step = rnn_step_backward(dhs[t] + dh_next, cache[t])
        for k in grads:
            grads[k] += step[k]
    return np.stack(dxs), dh_next, grads


def rnn_lm_loss(params, ids, h0, reduce=np.mean, last_input=False, targets_shift=1, assign_dE=False):
    """The students' loss, with switches for the usual mistakes."""
    inputs = ids if last_input else ids[:-1]
    targets = ids[targets_shift:targets_shift + len(ids) - 1]
    T, N = len(ids) - 1, ids.shape[1]
    hs, cache = rnn_forward(params["E"][:, inputs].transpose(1, 0, 2), h0, params)
    H = hs.shape[1]
    hidden = hs[:T].transpose(1, 0, 2).reshape(H, T * N)
    J, dscores = softmax_cross_entropy(params["U"] @ hidden + params["b2"], targets.ravel())
    if reduce is np.sum:
        J, dscores = J * T * N, dscores * T * N
    dhs = (params["U"].T @ dscores).reshape(H, T, N).transpose(1, 0, 2)
    if last_input:
        dhs = np.concatenate([dhs, np.zeros_like(dhs[:1])])
    dxs, _, grads = rnn_backward(dhs, cache)
    dxs = dxs[:T]
    dE = np.zeros_like(params["E"])
    if assign_dE:
        dE[:, inputs[:T].ravel()] = dxs.transpose(1, 0, 2).reshape(-1, T * N)
    else:
        np.add.at(dE.T, inputs[:T].ravel(), dxs.transpose(0, 2, 1).reshape(T * N, -1))
    return J, {**grads, "E": dE, "U": dscores @ hidden.T, "b2": dscores.sum(axis=1, keepdims=True)}, hs[-1]


def gradient_norms_through_time(hs, Wh, g, which=0, transpose=True, factor_first=True):
    T = len(hs)
    norms = np.empty(T)
    M = Wh.T if transpose else Wh
    for k in range(T):
        norms[k] = np.linalg.norm(g)
        if k < T - 1:
            d = 1.0 - hs[T - 1 - k - which] ** 2
            g = M @ (d * g) if factor_first else d * (M @ g)
    return norms


def clip_by_global_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    scale = max_norm / total if total > max_norm else 1.0
    return {k: g * scale for k, g in grads.items()}, total


def clip_by_value(grads, value):
    return {k: np.clip(g, -value, value) for k, g in grads.items()}


def tbptt_batches(stream, N, T, stride=None, interleave=False):
    M = len(stream) // N
    pieces = stream[:N * M].reshape(M, N) if interleave else stream[:N * M].reshape(N, M).T
    stride = stride or T
    K = (M - 1) // max(stride, T)
    return np.stack([pieces[k * stride:k * stride + T + 1] for k in range(K)])


SOLUTION = {f.__name__: f for f in (rnn_step_forward, rnn_step_backward, rnn_forward, rnn_backward, rnn_lm_loss,
                                    gradient_norms_through_time, clip_by_global_norm, clip_by_value, tbptt_batches)}


# ---------------------------------------------------------------- the reference and the solution pass


@pytest.mark.parametrize("name", list(REFERENCE))
@pytest.mark.parametrize("seed, hidden", [(0, False), (401, True), (13, True)])
def test_the_students_solution_passes_with_one_line(name, seed, hidden, capfd):
    CHECKS[name](SOLUTION[name], seed=seed, hidden=hidden)
    one_success_line(capfd, name)


def test_the_order_and_points_of_the_exercises():
    assert list(REFERENCE) == list(SOLUTION)
    assert sum(e.points for e in EXERCISES[ASSIGNMENT].values()) == 100


def test_a_function_that_hands_its_work_to_the_reference_scores_nothing():
    def wrapped(hs, Wh, g):
        return R.gradient_norms_through_time(hs, Wh, g)

    with pytest.raises(checks.framework.ReferenceDelegation, match="gradient_norms_through_time calls helpers.rnn"):
        checks.check_gradient_norms_through_time(wrapped)


# ---------------------------------------------------------------- the usual mistakes of the issue


def step_backward_with_h_prev(dh, cache):
    x, h_prev, h, params, _ = cache
    delta = dh * (1.0 - h_prev ** 2)
    return params["Wx"].T @ delta, params["Wh"].T @ delta, {"Wx": delta @ x.T, "Wh": delta @ h_prev.T,
                                                            "b": delta.sum(axis=1, keepdims=True)}


def step_backward_without_transpose(dh, cache):
    dx, _, grads = rnn_step_backward(dh, cache)
    x, h_prev, h, params, _ = cache
    return dx, params["Wh"] @ (dh * (1.0 - h ** 2)), grads


def step_backward_without_derivative(dh, cache):
    x, h_prev, h, params, _ = cache
    return params["Wx"].T @ dh, params["Wh"].T @ dh, {"Wx": dh @ x.T, "Wh": dh @ h_prev.T,
                                                      "b": dh.sum(axis=1, keepdims=True)}


def forward_without_carry(xs, h0, params):
    steps = [rnn_step_forward(x, h0, params) for x in xs]
    return np.stack([h for h, _ in steps]), [c for _, c in steps]


def forward_with_h0(xs, h0, params):
    hs, cache = rnn_forward(xs, h0, params)
    return np.concatenate([h0[None], hs]), cache


def backward_assigns(dhs, cache):
    dxs, dh_next = [None] * len(cache), np.zeros_like(dhs[0])
    for t in reversed(range(len(cache))):
        dxs[t], dh_next, grads = rnn_step_backward(dhs[t] + dh_next, cache[t])  # the last assignment wins
    return np.stack(dxs), dh_next, grads


def backward_without_dh_next(dhs, cache):
    grads = {k: np.zeros_like(cache[0][3][k]) for k in ("Wx", "Wh", "b")}
    dxs = [None] * len(cache)
    for t in reversed(range(len(cache))):
        dxs[t], dh_prev, step = rnn_step_backward(dhs[t], cache[t])
        for k in grads:
            grads[k] += step[k]
    return np.stack(dxs), dh_prev, grads


def backward_forward_in_time(dhs, cache):
    grads = {k: np.zeros_like(cache[0][3][k]) for k in ("Wx", "Wh", "b")}
    dxs, dh_next = [None] * len(cache), np.zeros_like(dhs[0])
    for t in range(len(cache)):
        dxs[t], dh_next, step = rnn_step_backward(dhs[t] + dh_next, cache[t])
        for k in grads:
            grads[k] += step[k]
    return np.stack(dxs), dh_next, grads


def clip_each_by_its_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}, total


def clip_always(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    return {k: g * max_norm / total for k, g in grads.items()}, total


def clip_norm_after(grads, max_norm):
    clipped, _ = clip_by_global_norm(grads, max_norm)
    return clipped, float(np.sqrt(sum(np.sum(g ** 2) for g in clipped.values())))


MISTAKES = [
    # (exercise, wrong implementation, words the message must contain)
    ("rnn_step_forward", lambda x, h, p: (lambda hn: (hn, (x, h, hn, p, "tanh")))(np.tanh(p["Wh"] @ h + p["Wx"] @ x)),
     ["h returned by rnn_step_forward is wrong", "Hint: the bias is missing: h = tanh(W_h h_prev + W_x x + b)."]),
    ("rnn_step_forward", lambda x, h, p: (lambda hn: (hn, (x, h, hn, p, "tanh")))(
        np.tanh(p["Wh"].T @ h + p["Wx"] @ x + p["b"])), ["Hint: use W_h itself, not its transpose"]),
    ("rnn_step_forward", lambda x, h, p: (lambda hn: (hn, (x, hn, h, p, "tanh")))(
        np.tanh(p["Wh"] @ h + p["Wx"] @ x + p["b"])),
     ["Hint: h and h_prev are swapped in the cache: its order is (x, h_prev, h, params, \"tanh\")."]),
    ("rnn_step_forward", lambda x, h, p: (lambda hn: (hn, (x, h, hn, p)))(np.tanh(p["Wh"] @ h + p["Wx"] @ x + p["b"])),
     ["rnn_step_forward: its cache must be the tuple (x, h_prev, h, params, \"tanh\"); received tuple of length 4"]),
    ("rnn_step_backward", step_backward_with_h_prev,
     ["Hint: the tanh derivative uses the wrong state: f'(z) = 1 - h**2 with h the output of this step"]),
    ("rnn_step_backward", step_backward_without_transpose,
     ["dx, dWx, dWh, db are correct but dh_prev is not", "Hint: dh_prev = W_h^T delta: use the transpose"]),
    ("rnn_step_backward", step_backward_without_derivative, ["Hint: the factor f'(z) = 1 - h**2 is missing"]),
    ("rnn_forward", forward_without_carry,
     ["on case: T=5", "Hint: every step must start from the previous step's state: carry h"]),
    ("rnn_forward", forward_with_h0,
     ["hs returned by rnn_forward has shape (6, 4, 2); expected shape (5, 4, 2)", "Hint: hs holds h_1 ... h_T"]),
    ("rnn_forward", lambda xs, h0, p: (rnn_forward(xs, h0, p)[0], [c[:4] for c in rnn_forward(xs, h0, p)[1]]),
     ["rnn_forward: cache[0] must be the tuple (x, h_prev, h, params, \"tanh\"); received tuple of length 4"]),
    ("rnn_backward", backward_assigns,
     ["dxs, dh0 are correct but dWx, dWh, db are not", "Hint: the weight gradients are those of a single step",
      "do not assign them"]),
    ("rnn_backward", backward_without_dh_next, ["Hint: dh_next is not added: dJ/dh_t = dhs[t]"]),
    ("rnn_backward", backward_forward_in_time, ["Hint: go backwards in time, t = T-1 down to 0"]),
    ("rnn_lm_loss", lambda p, ids, h0: rnn_lm_loss(p, ids, h0, reduce=np.sum),
     ["J returned by rnn_lm_loss is wrong", "Hint: J is the sum over the T N = 12 predictions; the loss is their "
                                            "mean"]),
    ("rnn_lm_loss", lambda p, ids, h0: rnn_lm_loss(p, ids, h0, last_input=True),
     ["J, dE, dWx, dWh, db, dU, db2 are correct but h_last is not",
      "Hint: h_last is the state after reading the last token ids[-1]; that token is only a target"]),
    ("rnn_lm_loss", lambda p, ids, h0: rnn_lm_loss(p, ids, h0, targets_shift=0),
     ["Hint: the targets are the next words, ids[1:]"]),
    ("rnn_lm_loss", lambda p, ids, h0: rnn_lm_loss(p, ids, h0, assign_dE=True),
     ["are correct but dE is not", "Hint: only dE is wrong. A word read several times gets the sum"]),
    ("gradient_norms_through_time", lambda hs, Wh, g: gradient_norms_through_time(hs, Wh, g, which=1),
     ["Hint: the wrong h in the tanh derivative: going from dJ/dh_t to dJ/dh_(t-1) multiplies by (1 - h_t**2)"]),
    ("gradient_norms_through_time", lambda hs, Wh, g: gradient_norms_through_time(hs, Wh, g, transpose=False),
     ["Hint: the Jacobian's transpose"]),
    ("gradient_norms_through_time", lambda hs, Wh, g: gradient_norms_through_time(hs, Wh, g)[::-1],
     ["Hint: the order: norms[0] is ||dJ/dh_T|| = ||g||"]),
    ("clip_by_global_norm", lambda grads, m: (clip_by_value(grads, m), clipping.global_norm(grads)),
     ["Hint: that is clipping by value, which changes the direction of the step (the cosine"]),
    ("clip_by_global_norm", clip_each_by_its_norm, ["Hint: each array was clipped by its own norm"]),
    ("clip_by_global_norm", clip_always,
     ["on case: small gradients", "Hint: below the threshold nothing changes"]),
    ("clip_by_global_norm", clip_norm_after, ["total_norm returned by clip_by_global_norm is wrong",
                                              "Hint: total_norm is ||g|| before clipping"]),
    ("clip_by_value", lambda grads, v: {k: np.minimum(g, v) for k, g in grads.items()},
     ["Hint: negative entries must be clipped too"]),
    ("clip_by_value", lambda grads, v: clip_by_global_norm(grads, v)[0], ["Hint: that is clipping by norm"]),
    ("tbptt_batches", lambda s, N, T: tbptt_batches(s, N, T, stride=T + 1),
     ["Hint: the windows do not overlap, so a token is skipped at every seam"]),
    ("tbptt_batches", lambda s, N, T: tbptt_batches(s, N, T, stride=T - 1) if T > 1 else tbptt_batches(s, N, T),
     ["Hint: consecutive windows share two ids, so a token is read and predicted twice at every seam"]),
    ("tbptt_batches", lambda s, N, T: tbptt_batches(s, N, T, interleave=True),
     ["Hint: column n must be one contiguous piece of the stream"]),
    ("tbptt_batches", lambda s, N, T: np.stack([w[:-1] for w in tbptt_batches(s, N, T)]),
     ["Hint: a window holds T + 1 ids"]),
]


@pytest.mark.parametrize("name, wrong, words", MISTAKES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MISTAKES)])
@pytest.mark.parametrize("hidden", [False, True])
def test_a_realistic_mistake_fails_with_its_hint(name, wrong, words, hidden, capfd):
    assert_fails_naming(CHECKS[name], wrong, words, capfd, hidden=hidden)


def test_every_exercise_has_a_realistic_mistake():
    assert {name for name, _, _ in MISTAKES} == set(REFERENCE)


def clip_dividing_by_the_norm(grads, max_norm):
    """min(1, max_norm / ||g||): a ZeroDivisionError when every gradient is 0 (only a hidden case has that)."""
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    scale = min(1.0, max_norm / total)
    return {k: g * scale for k, g in grads.items()}, total


# mistakes that only the hidden tests see
HIDDEN_ONLY = [("clip_by_global_norm", clip_dividing_by_the_norm,
                r"clip_by_global_norm raised ZeroDivisionError: float division by zero\n"
                r"  on case: a gradient of zeros")]


@pytest.mark.parametrize("name, wrong, words", HIDDEN_ONLY, ids=[m[0] for m in HIDDEN_ONLY])
def test_mistakes_only_the_hidden_tests_catch(name, wrong, words, capfd):
    CHECKS[name](wrong)
    one_success_line(capfd, name)
    with pytest.raises(CheckFailure, match=words):
        CHECKS[name](wrong, seed=401, hidden=True)


@pytest.mark.parametrize("mistake", sorted(GRADING_MISTAKES.get(ASSIGNMENT, {})))
def test_the_wrong_answers_of_the_grading_tests(mistake, capfd):
    grade_id, source, shown = GRADING_MISTAKES[ASSIGNMENT][mistake]
    ns = {"np": np, "softmax_cross_entropy": softmax_cross_entropy, **SOLUTION}
    exec(source, ns)
    assert_grading_mistake_caught(CHECKS[grade_id], grade_id, ns[grade_id], shown, capfd, 401)


def test_the_grading_tests_have_three_mistakes_one_of_them_hidden():
    mistakes = GRADING_MISTAKES[ASSIGNMENT]
    assert len(mistakes) >= 3 and any(not shown for _, _, shown in mistakes.values())


# ---------------------------------------------------------------- one mistake costs one exercise


def test_a_wrong_step_function_does_not_fail_the_sequence_checks(capfd):
    """rnn_forward and rnn_backward call rnn_step_forward/backward: while their checks run, those are the
    reference ones, even when the notebook's own are wrong or missing."""
    ns = {"np": np}
    exec("def rnn_step_forward(x, h_prev, params):\n    raise NotImplementedError()\n"
         "def rnn_step_backward(dh, cache):\n    return None\n", ns)
    for name in ("rnn_forward", "rnn_backward"):
        exec(inspect.getsource(SOLUTION[name]), ns)      # the solution's code, calling the notebook's step functions
        CHECKS[name](ns[name], hidden=True)
        one_success_line(capfd, name)
    assert ns["rnn_step_backward"](1, 2) is None  # the notebook's own functions are back


# ---------------------------------------------------------------- generic failures


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("name, wrong, message", [
    ("rnn_step_forward", lambda x, h, p: rnn_step_forward(x, h, p)[0],
     "rnn_step_forward must return a pair (h, cache); received ndarray"),
    ("rnn_step_forward", lambda x, h, p: (rnn_step_forward(x, h, p)[0], (x, h, p, "tanh", p)),
     "rnn_step_forward: its cache must be (x, h_prev, h, params, \"tanh\"), in that order: three arrays, the dict "
     "params, the name of the activation"),
    ("rnn_step_backward", lambda dh, c: rnn_step_backward(dh, c)[:2],
     "rnn_step_backward must return (dx, dh_prev, grads); received tuple of length 2"),
    ("rnn_step_backward", lambda dh, c: (*rnn_step_backward(dh, c)[:2], {"W_x": 0}),
     "rnn_step_backward: grads lacks the keys ['Wx', 'Wh', 'b'] (received keys ['W_x']); the gradients come back as "
     "a dict with the names of the parameters"),
    ("rnn_forward", lambda xs, h0, p: (rnn_forward(xs, h0, p)[0], tuple(rnn_forward(xs, h0, p)[1])),
     "rnn_forward's cache must be the list of the caches of the 5 steps, one per x_t; received tuple of length 5"),
    ("rnn_lm_loss", lambda p, ids, h0: rnn_lm_loss(p, ids, h0)[:2],
     "rnn_lm_loss must return (J, grads, h_last); received tuple of length 2"),
    ("clip_by_global_norm", lambda g, m: clip_by_global_norm(g, m)[0],
     "clip_by_global_norm must return (clipped, total_norm); received dict"),
    ("clip_by_value", lambda g, v: [np.clip(a, -v, v) for a in g.values()],
     "clip_by_value must return the clipped gradients as a dict with keys ['Wx', 'Wh', 'b']; received list"),
])
def test_another_return_format_is_told_so(name, wrong, message):
    with pytest.raises(CheckFailure) as info:
        CHECKS[name](wrong)
    assert str(info.value).startswith(message), str(info.value)


def test_changing_the_gradients_in_place_is_caught():
    def clip_in_place(grads, max_norm):
        total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
        for g in grads.values():
            g *= min(1.0, max_norm / total)
        return grads, total

    with pytest.raises(CheckFailure, match=r"changed the values of an array it was given.*\nReturn new arrays"):
        checks.check_clip_by_global_norm(clip_in_place)


# ---------------------------------------------------------------- progress


def test_progress_of_04(capfd):
    rows = progress(ASSIGNMENT, dict(SOLUTION))
    assert [r[0] for r in rows] == list(REFERENCE)
    assert all(status == "passes" for _, _, status, _ in rows)
    rows = progress(ASSIGNMENT, {**SOLUTION, "rnn_backward": backward_assigns, "tbptt_batches": not_implemented})
    status = {name: s for name, _, s, _ in rows}
    assert status["rnn_backward"] == "fails" and status["tbptt_batches"] == "not started"
    assert sum(s == "passes" for s in status.values()) == len(status) - 2
    assert capfd.readouterr() == ("", "")


# ---------------------------------------------------------------- helpers the checks and experiments rely on


def test_the_reference_backward_reads_the_list_of_step_caches():
    rng = np.random.default_rng(3)
    T, D, H, N = 5, 3, 4, 2
    params = R.init_rnn(D, H, rng, scale=0.9)
    params["b"] = rng.normal(size=(H, 1))
    xs, h0, dhs = rng.normal(size=(T, D, N)), rng.normal(size=(H, N)), rng.normal(size=(T, H, N))
    steps = rnn_forward(xs, h0, params)[1]
    dxs, dh0, grads = R.rnn_backward(dhs, steps)
    own = R.rnn_backward(dhs, R.rnn_forward(xs, h0, params)[1])
    np.testing.assert_allclose(dxs, own[0], rtol=1e-12)
    np.testing.assert_allclose(dh0, own[1], rtol=1e-12)
    report = gradcheck(lambda p: float(np.sum(dhs * rnn_forward(p["xs"], p["h0"], p)[0])),
                       {"xs": xs, "h0": h0, **params}, {"xs": dxs, "h0": dh0, **grads})
    assert report.passed, str(report)
    with pytest.raises(ValueError, match=r"^rnn_backward: argument 'cache' must be rnn_forward's cache or a non-empty"):
        R.rnn_backward(dhs, [])


def test_yours_or_reference_accepts_a_tool_imported_from_helpers(capfd):
    """rnn_lm_loss calls softmax_cross_entropy, an exercise of 03 that the notebook imports from helpers.losses."""
    ns = dict(SOLUTION, softmax_cross_entropy=softmax_cross_entropy)
    assert yours_or_reference(ns, "rnn_lm_loss") is rnn_lm_loss
    assert capfd.readouterr().out == "Using your rnn_lm_loss.\n"
    ns["rnn_backward"] = backward_assigns
    assert yours_or_reference(ns, "rnn_lm_loss") is lm.rnn_lm_loss
    assert "your rnn_lm_loss calls your rnn_backward, which does not pass its check yet" in capfd.readouterr().out


def test_looking_up_a_cell_leaves_the_module_level_mapping_unchanged():
    """The class grader compares helpers' module-level containers before and after each submission: using a cell
    (notebook 04's delayed copy and LM) must not count as tampering."""
    from helpers.cells import CELLS
    before = dict(CELLS)
    assert CELLS["rnn"] is R.CELL and CELLS["rnn"] is CELLS["rnn"]
    assert dict(CELLS) == before == {}
