"""Checks for the exercises of 02_backprop: the loss, pooling, layers, backprop, the classifier.

Every check of a backward pass also compares the student's gradient with
central finite differences when ``hidden=True`` (the hidden tests).
"""
from __future__ import annotations

import numpy as np

from .. import classifier as clf
from .. import gradcheck as gc
from .. import layers, losses, mlp, optim
from ..activations import get_activation, sigmoid
from .exercises import exercise
from .framework import (fmt, Case, CheckFailure, call_student, check_gradients, close, passed, require_function,
                        require_returned, run_check, using_reference, verify_cases)


# ---------------------------------------------------------------- the loss and dJ/ds

def _loss_cases(rng, hidden):
    cases = [
        Case("s = [[2, -1, 0.5, -3]], y = [[1, 0, 1, 1]]",
             (np.array([[2.0, -1.0, 0.5, -3.0]]), np.array([[1.0, 0.0, 1.0, 1.0]]))),
        Case("8 random scores s (1, 8) and labels y", (rng.normal(scale=2, size=(1, 8)),
                                                        rng.integers(0, 2, size=(1, 8)).astype(float))),
        Case("confident scores s = [[1000, -1000, 40, -40]], y = [[1, 0, 0, 1]]",
             (np.array([[1000.0, -1000.0, 40.0, -40.0]]), np.array([[1.0, 0.0, 0.0, 1.0]]))),
    ]
    if hidden:
        N = int(rng.integers(2, 30))
        cases += [Case("one example s = [[0.3]], y = [[0]]", (np.array([[0.3]]), np.array([[0.0]]))),
                  Case(f"{N} random scores of scale 30", (rng.normal(scale=30, size=(1, N)),
                                                          rng.integers(0, 2, size=(1, N)).astype(float)))]
    return cases


def _batch(rng, V, T, N, repeat=False, pad=True):
    """Random ids (T, N) and mask with lengths between 1 and T; with ``repeat`` words recur in sentences."""
    ids = rng.integers(2, V, size=(T, N))
    if repeat and T > 1:  # (a hidden case may draw T = 1)
        ids[1] = ids[0]
    lengths = rng.integers(max(1, T // 2), T + 1, size=N) if pad else np.full(N, T)
    lengths[0] = T
    mask = (np.arange(T)[:, None] < lengths[None, :]).astype(float)
    return np.where(mask > 0, ids, 0), mask


def _pool_cases(rng, hidden):
    D, V = 3, 9
    settings = [("no padding, 4 sentences of 5 words", 5, 4, False, False),
                ("padded sentences of 2 to 6 words", 6, 5, False, True),
                ("a word repeated inside each sentence", 5, 3, True, True)]
    if hidden:
        settings += [(f"random batch {i}", int(rng.integers(1, 9)), int(rng.integers(1, 7)), bool(i), True)
                     for i in range(2)]
    cases = []
    for label, T, N, repeat, pad in settings:
        ids, mask = _batch(rng, V, T, N, repeat, pad)
        cases.append(Case(f"{label} (D={D}, V={V}, ids of shape {ids.shape})", (rng.normal(size=(D, V)), ids, mask)))
    return cases


def _sized(value, size: int, what: str, lead: str) -> None:
    """CheckFailure '<lead> <what>; received tuple of length 3' unless value is a tuple or list of ``size``."""
    if not isinstance(value, (tuple, list)) or len(value) != size:
        raise CheckFailure(f"{lead} {what}; received {type(value).__name__}"
                           + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))


def _first_of_pair(fn, name, what):
    """fn's first output, after checking that fn returns a pair (out, cache)."""
    if not callable(fn):
        return fn  # verify_cases says that a function is expected

    def first(*args):
        __tracebackhide__ = True
        out = fn(*args)
        if out is None:
            return None  # verify_cases asks about the return statement
        _sized(out, 2, what, f"{name} must return a pair")
        return out[0]
    return first


def _with_cache(fn, name, output, cache):
    """fn's output followed by the entries of its cache, after checking that fn returns (out, cache) and that
    the cache has as many entries as ``cache`` names (e.g. "(a, W)"): caches are checked like values."""
    if not callable(fn):
        return fn

    def flat(*args):
        __tracebackhide__ = True
        out = fn(*args)
        if out is None:
            return None  # verify_cases asks about the return statement
        _sized(out, 2, f"({output}, cache)", f"{name} must return a pair")
        _sized(out[1], cache.count(",") + 1, cache, f"{name}'s cache must be the tuple")
        return (out[0], *out[1])
    return flat


def _flat(reference):
    """The reference's output followed by the entries of its cache."""
    return lambda *args: (lambda out: (out[0], *out[1]))(reference(*args))


def _affine_cases(rng, hidden):
    shapes = [(3, 2, 4), (5, 3, 1), (2, 4, 3)]  # (n_in, n_out, N)
    if hidden:
        shapes += [tuple(int(v) for v in rng.integers(1, 7, size=3)) for _ in range(3)]
    return [Case(f"a ({i}, {N}), W ({o}, {i}), b ({o}, 1)",
                 (rng.normal(size=(i, N)), rng.normal(size=(o, i)), rng.normal(size=(o, 1)))) for i, o, N in shapes]


def _mlp_cases(rng, hidden):
    settings = [([3, 4, 2], "tanh", "identity", 5), ([2, 5, 4, 1], "sigmoid", "sigmoid", 3),
                ([4, 3, 3, 3, 2], "relu", "identity", 6)]
    if hidden:
        settings += [(list(int(v) for v in rng.integers(1, 6, size=rng.integers(2, 6))), act, out, int(rng.integers(1, 6)))
                     for act, out in (("tanh", "tanh"), ("relu", "sigmoid"))]
    cases = []
    for sizes, act, out, N in settings:
        params = mlp.init_mlp(sizes, seed=int(rng.integers(1000)))
        for l in range(1, len(sizes)):
            params[f"b{l}"] = rng.normal(scale=0.5, size=params[f"b{l}"].shape)
        _, cache = mlp.mlp_forward(params, rng.normal(size=(sizes[0], N)), act, out)
        dout = rng.normal(size=(sizes[-1], N))
        cases.append(Case(f"layer sizes {sizes}, hidden f = {act}, output f = {out}, N = {N}", (dout, cache)))
    return cases


def _mlp_names(L):
    """WL, bL, ..., W1, b1: the order of the backward pass, so the first difference reported is the last layer's."""
    return tuple(f"{p}{l}" for l in range(L, 0, -1) for p in "Wb")


# ---------------------------------------------------------------- numerical gradient

def _fd_functions(rng):
    A = rng.normal(size=(3, 3))
    return [("f(x) = sum(x**2) at x of shape (3,)", lambda x: float(np.sum(x ** 2)), rng.normal(size=3)),
            ("f(x) = sum(sin(x) * x**3) at x of shape (2, 3)", lambda x: float(np.sum(np.sin(x) * x ** 3)),
             rng.normal(size=(2, 3))),
            ("f(X) = log sum exp(A X) at X of shape (3, 2)", lambda x: float(np.log(np.exp(A @ x).sum())),
             rng.normal(size=(3, 2)))]


def _classifier_cases(rng, hidden):
    settings = [(12, 4, 5, 6, 5), (20, 3, 2, 4, 8)]  # V, D, H, T, N
    if hidden:
        settings.append(tuple(int(v) for v in rng.integers(3, 9, size=5)) )
    cases = []
    for V, D, H, T, N in settings:
        params = clf.init_classifier(V, D, H, seed=int(rng.integers(1000)))
        params["b"] = rng.normal(scale=0.5, size=(H, 1))
        ids, mask = _batch(rng, V, T, N, repeat=True)
        cases.append(Case(f"V={V}, D={D}, H={H}, a batch of {N} padded sentences with repeated words",
                          (params, ids, mask)))
    return cases


#: the cache of classifier_forward, as the exercise specifies it
CACHE = '(pool_cache, affine_cache, z, h, u, "tanh")'


def _reference_cache_parts(params, ids, mask):
    _, (_, (x, _), z, h, _, _) = clf.classifier_forward(params, ids, mask)
    return x, z, h


@exercise("02_backprop", points=8, reference=clf.average_pool_forward)
def check_average_pool_forward(average_pool_forward, seed: int = 0, hidden: bool = False) -> None:
    """x_n = (1/n_n) sum_t mask[t,n] E[:, ids[t,n]] -> (x (D, N), cache)."""
    cases = _pool_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        E, ids, mask = case.args
        vectors = E[:, ids]  # (D, T, N)
        if close(got[0], expected[0]):
            return ("x is right; the cache must be (ids, mask, V) in that order, with V = E.shape[1]: "
                    "average_pool_backward unpacks it as ids, mask, V = cache.")
        if close(got[0], vectors.mean(axis=1)):
            return ("padding was averaged in: multiply by the mask and divide by the true length "
                    "n = mask.sum(axis=0), not by T.")
        if close(got[0], (vectors * mask).sum(axis=1) / ids.shape[0]):
            return "divide by the true length n = mask.sum(axis=0) of each sentence, not by T."
        if close(got[0], (vectors * mask).sum(axis=1)):
            return "that is the sum of the word vectors; divide by the length n to get their average."
        if got[0].shape == expected[0].shape[::-1]:
            return "x must have one column per sentence: shape (D, N)."

    run_check(_with_cache(average_pool_forward, "average_pool_forward", "x", "(ids, mask, V)"),
              _flat(clf.average_pool_forward), cases, name="average_pool_forward",
              names=("x", "cache[0] (ids)", "cache[1] (mask)", "cache[2] (V)"), hints=(hint,))


@exercise("02_backprop", points=10, reference=losses.binary_cross_entropy)
def check_binary_cross_entropy(binary_cross_entropy, seed: int = 0, hidden: bool = False) -> None:
    """J = -mean[y log y_hat + (1-y) log(1-y_hat)] from scores s, finite for any s."""
    cases = _loss_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        s, y = case.args
        J = float(np.asarray(got[0]).sum())
        y_hat = sigmoid(s)
        with np.errstate(all="ignore"):
            slip = np.mean(-y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
        if not np.isfinite(J):
            return ("log(y_hat) or log(1 - y_hat) reached log(0): sigmoid(40) rounds to exactly 1.0. Compute each "
                    "term from the score: -[y log y_hat + (1-y) log(1-y_hat)] = log(1 + e^s) - y s, and "
                    "log(1 + e^s) = np.logaddexp(0, s) never overflows.")
        if np.isclose(J, slip):
            return ("that is the slide's formula -y log y_hat + (1-y) log(1-y_hat), whose second term has the wrong "
                    "sign: the minus applies to the whole bracket, J = -[y log y_hat + (1-y) log(1-y_hat)].")
        if np.isclose(J, expected[0] * s.shape[1]):
            return "you summed over the batch; the loss is the mean over the N examples."
        if np.isclose(J, expected[0] / np.log(2)):
            return "you used log base 2; the course uses the natural log (np.log)."

    def scalar_hint(case, expected, got):
        if np.asarray(got[0]).shape != ():
            return "return one number, the mean over the batch (e.g. float(np.mean(...)))."

    run_check(binary_cross_entropy, losses.binary_cross_entropy, cases, name="binary_cross_entropy",
              hints=(scalar_hint, hint))


@exercise("02_backprop", points=5, reference=losses.binary_cross_entropy_grad)
def check_binary_cross_entropy_grad(binary_cross_entropy_grad, seed: int = 0, hidden: bool = False) -> None:
    """dJ/ds = (sigmoid(s) - y) / N, shape (1, N)."""
    rng = np.random.default_rng(seed)
    cases = _loss_cases(rng, hidden)

    def hint(case, expected, got):
        s, y = case.args
        N = s.shape[1]
        if close(got[0], expected[0] * N):
            return "J is a mean over the N examples, so each dJ/ds_n carries a factor 1/N."
        if close(got[0], -expected[0]):
            return "the sign is flipped: dJ/ds = (y_hat - y)/N, positive when the prediction is too high."
        if close(got[0], (s - y) / N):
            return "you used s in place of y_hat = sigmoid(s)."

    name = "binary_cross_entropy_grad"
    caught = verify_cases(binary_cross_entropy_grad, losses.binary_cross_entropy_grad, cases, name=name,
                          hints=(hint,))
    if hidden:
        s, y = rng.normal(size=(1, 6)), rng.integers(0, 2, size=(1, 6)).astype(float)
        grad = call_student(binary_cross_entropy_grad, name, Case("finite differences", (s, y)), caught)
        check_gradients(name, lambda p: losses.binary_cross_entropy(p["s"], y), {"s": s}, {"s": grad})
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- average pooling


@exercise("02_backprop", points=8, reference=gc.numerical_gradient)
def check_numerical_gradient(numerical_gradient, seed: int = 0, hidden: bool = False) -> None:
    """Central differences (f(x+h e_i) - f(x-h e_i)) / 2h for every element of x; x restored afterwards."""
    rng = np.random.default_rng(seed)
    functions = _fd_functions(rng)
    if hidden:
        B = rng.normal(size=(2, 4))
        functions.append(("f(x) = sum(tanh(B x)) at x of shape (4, 1)",
                          lambda x: float(np.sum(np.tanh(B @ x))), rng.normal(size=(4, 1))))
    cases = [Case(label, (f, x)) for label, f, x in functions]
    cases.append(Case("f(x) = sum(x**3) at x of shape (3,) with h = 0.01 (use the h you are given)",
                      (lambda x: float(np.sum(x ** 3)), rng.normal(size=3)), {"h": 1e-2}))

    def hint(case, expected, got):
        f, x = case.args
        h = case.kwargs.get("h", 1e-5)
        forward = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            xp = x.copy()
            xp[i] += h
            forward[i] = (f(xp) - f(x)) / h
        if h != 1e-5 and close(got[0], gc.numerical_gradient(f, x.copy(), 1e-5), rtol=1e-7):
            return "use the step h passed as an argument, not a fixed one."
        if close(got[0], forward, rtol=1e-4):
            return ("that looks like the one-sided difference (f(x+h) - f(x)) / h, accurate only to O(h); "
                    "use the central difference (f(x+h) - f(x-h)) / 2h.")
        if close(got[0], 2 * expected[0], rtol=1e-4):
            return "divide by 2h: the two points x+h and x-h are 2h apart."

    run_check(numerical_gradient, gc.numerical_gradient, cases, name="numerical_gradient", hints=(hint,),
              rtol=1e-6, atol=1e-8, mutation_hint=(
                  "x was not restored exactly: save old = x[i] before the two evaluations and put it back with "
                  "x[i] = old (adding and subtracting h leaves rounding errors)."))


# ---------------------------------------------------------------- the classifier


@exercise("02_backprop", points=5, reference=layers.affine_forward)
def check_affine_forward(affine_forward, seed: int = 0, hidden: bool = False) -> None:
    """z = W a + b -> (z (n_out, N), cache (a, W))."""
    cases = _affine_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        a, W, b = case.args
        if close(got[0], W @ a):
            return "the bias is missing: z = W a + b (b has shape (n_out, 1) and broadcasts over the columns)."
        if close(got[1], W) and close(got[2], a):
            return "the cache must be (a, W), in that order: affine_backward unpacks it as a, W = cache."

    run_check(_with_cache(affine_forward, "affine_forward", "z", "(a, W)"), _flat(layers.affine_forward), cases,
              name="affine_forward", names=("z", "cache[0] (a)", "cache[1] (W)"), hints=(hint,))


@exercise("02_backprop", points=10, reference=layers.affine_backward)
def check_affine_backward(affine_backward, seed: int = 0, hidden: bool = False) -> None:
    """(da, dW, db) from dz (n_out, N) and cache = (a, W)."""
    rng = np.random.default_rng(seed)
    cases = [Case(c.label, (rng.normal(size=(c.args[1].shape[0], c.args[0].shape[1])), (c.args[0], c.args[1])))
             for c in _affine_cases(rng, hidden)]

    def hint(case, expected, got):
        dz, (a, W) = case.args
        da, dW, db = got
        if db.shape == dz.shape and close(db, dz) and dz.shape[1] > 1:
            return "db must have the shape of b, (n_out, 1): sum delta over the batch, dz.sum(axis=1, keepdims=True)."
        if db.shape == (dz.shape[0],):
            return "keep db a column of shape (n_out, 1): dz.sum(axis=1, keepdims=True)."
        if close(dW, expected[1]) and not close(db, expected[2]):
            return "dW is correct but db is not: did you sum over the batch (axis=1)?"
        if dW.shape == expected[1].shape[::-1]:
            return "dW = dz a^T has the shape of W, (n_out, n_in)."
        if close(dW, expected[1] / a.shape[1]):
            return "do not divide by N here: dz already carries the 1/N of the mean loss."

    name = "affine_backward"
    caught = verify_cases(affine_backward, layers.affine_backward, cases, name=name, names=("da", "dW", "db"),
                          hints=(hint,))
    if hidden:
        a, W, b = (rng.normal(size=s) for s in ((3, 4), (2, 3), (2, 1)))
        R = rng.normal(size=(2, 4))
        da, dW, db = call_student(affine_backward, name, Case("finite differences", (R, (a, W))), caught)
        check_gradients(name, lambda p: float(np.sum(R * (p["W"] @ p["a"] + p["b"]))),
                        {"a": a, "W": W, "b": b}, {"a": da, "W": dW, "b": db})
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- the L-layer MLP backward


@exercise("02_backprop", points=12, reference=mlp.mlp_backward)
def check_mlp_backward(mlp_backward, seed: int = 0, hidden: bool = False) -> None:
    """The four equations: grads {W1, b1, ..., WL, bL} from dout = grad_{a^L} J and mlp_forward's cache."""
    rng = np.random.default_rng(seed)
    cases = _mlp_cases(rng, hidden)

    def hint(case, expected, got):
        dout, cache = case.args
        L = len(cache["z"]) - 1
        names = _mlp_names(L)
        wrong = [n for n, e, g in zip(names, expected, got) if not close(e, g)]
        top = max(int(n[1:]) for n in wrong)
        _, f_grad = get_activation(cache["f"][L])
        if top == L:
            no_fprime = dout @ cache["a"][L - 1].T
            if close(got[names.index(f"W{L}")], no_fprime) and cache["f"][L] != "identity":
                return "the last layer misses f'(z^L): delta^L = grad_{a^L} J * f'(z^L) (elementwise)."
            if close(got[names.index(f"W{L}")], expected[names.index(f"W{L}")]):
                return "dW^L is right but db^L is not: db^L = delta^L summed over the batch (axis=1, keepdims=True)."
            return ("the last layer is already wrong: delta^L = dout * f'(z^L), dJ/dW^L = delta^L (a^{L-1})^T, "
                    "dJ/db^L = delta^L summed over the batch.")
        correct = f"layer {L} is" if top + 1 == L else f"layers {L} to {top + 1} are"
        return (f"{correct} correct, layer {top} is the first wrong one: check "
                f"delta^{top} = ((W^{top + 1})^T delta^{top + 1}) * f'(z^{top}) (use z^{top}, not a^{top}).")

    name = "mlp_backward"
    caught = []
    for case in cases:  # the number of layers differs between cases, so are the keys
        caught += verify_cases(mlp_backward, mlp.mlp_backward, [case], name=name, mapping=True,
                               names=_mlp_names(len(case.args[1]["z"]) - 1), hints=(hint,))
    if hidden:
        dout, cache = cases[1].args
        grads = call_student(mlp_backward, name, Case("finite differences", (dout, cache)), caught)
        X, acts = cache["a"][0], cache["f"]

        def J(p):
            return float(np.sum(dout * mlp.mlp_forward(p, X, acts[1], acts[-1])[0]))
        check_gradients(name, J, dict(cache["params"]), grads)
    passed(name, len(cases) + hidden, caught)


@exercise("02_backprop", points=8, reference=clf.classifier_forward)
def check_classifier_forward(classifier_forward, seed: int = 0, hidden: bool = False) -> None:
    """s = u^T tanh(W x + b), x the masked average of the word vectors -> (s (1, N), cache), with
    cache = (pool_cache, affine_cache, z, h, u, "tanh").

    While it runs, average_pool_forward and affine_forward are the reference ones.
    """
    cases = _classifier_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        s = got[0]
        if close(s, sigmoid(expected[0])):
            return "return the score s = u^T h, not y_hat = sigmoid(s): the loss takes s."
        if s.shape == expected[0].shape[::-1]:
            return "s must be a row, shape (1, N): s = u^T h = u.T @ h."

    def cache_parts(*args):
        """(x, z, h) from the cache, checked against the documented format."""
        __tracebackhide__ = True
        out = classifier_forward(*args)
        cache = out[1] if isinstance(out, (tuple, list)) and len(out) == 2 else None
        if not isinstance(cache, (tuple, list)) or len(cache) != 6:
            raise CheckFailure(f"classifier_forward's cache must be {CACHE}; received {type(cache).__name__}"
                               + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else ""))
        pool_cache, affine_cache, z, h, u, activation = cache
        if not isinstance(affine_cache, (tuple, list)) or len(affine_cache) != 2:
            raise CheckFailure(f"cache[1] must be the cache (x, W) of affine_forward: the order of the cache is {CACHE}")
        for position, value, what in ((2, z, "z"), (3, h, "h"), (4, u, "u")):
            if not isinstance(value, np.ndarray):
                raise CheckFailure(f"cache[{position}] must be the array {what}: the order of the cache is {CACHE}")
        if activation != "tanh":
            raise CheckFailure(f"cache[5] must be the name of the activation, \"tanh\", so that classifier_backward "
                               f"finds everything it needs in the cache; received {activation!r}")
        return affine_cache[0], z, h

    with using_reference(classifier_forward, average_pool_forward=clf.average_pool_forward,
                         affine_forward=layers.affine_forward):
        caught = verify_cases(_first_of_pair(classifier_forward, "classifier_forward", "(s, cache)"), lambda *a: clf.classifier_forward(*a)[0], cases,
                              name="classifier_forward", hints=(hint,))
        caught += verify_cases(cache_parts, _reference_cache_parts, cases, name="classifier_forward",
                               names=("cache[1][0] (x)", "cache[2] (z)", "cache[3] (h)"))
    passed("classifier_forward", len(cases), caught)


@exercise("02_backprop", points=10, reference=clf.average_pool_backward)
def check_average_pool_backward(average_pool_backward, seed: int = 0, hidden: bool = False) -> None:
    """dE (D, V) from dx (D, N) and cache = (ids, mask, V): accumulate over repeated words."""
    rng = np.random.default_rng(seed)
    cases = [Case(c.label, (rng.normal(size=(c.args[0].shape[0], c.args[1].shape[1])), (c.args[1], c.args[2], 9)))
             for c in _pool_cases(rng, hidden)]

    def assigned(dx, ids, mask, V):
        dE = np.zeros((dx.shape[0], V))
        dE[:, ids] = dx[:, None, :] * mask / mask.sum(axis=0)  # the last write wins
        return dE

    def hint(case, expected, got):
        dx, (ids, mask, V) = case.args
        if close(got[0], assigned(dx, ids, mask, V)):
            return ("the gradient into the word vectors is wrong only for words that occur more than once: "
                    "accumulate, do not assign. dE[:, ids] = ... keeps one contribution; np.add.at adds them all.")
        unscaled = clf.average_pool_backward(dx * mask.sum(axis=0), (ids, mask, V))
        if close(got[0], unscaled):
            return "each word's share is dx_n / n_n: divide by the sentence length."
        if not close(got[0][:, 0], 0 * got[0][:, 0]) and close(got[0][:, 1:], expected[0][:, 1:]):
            return "the padding id 0 received a gradient: padding positions have mask 0 and contribute nothing."

    name = "average_pool_backward"
    caught = verify_cases(average_pool_backward, clf.average_pool_backward, cases, name=name, hints=(hint,))
    if hidden:
        E = rng.normal(size=(3, 9))
        ids, mask = _batch(rng, 9, 5, 4, repeat=True)
        R = rng.normal(size=(3, 4))
        dE = call_student(average_pool_backward, name, Case("finite differences", (R, (ids, mask, 9))), caught)
        check_gradients(name, lambda p: float(np.sum(R * clf.average_pool_forward(p["E"], ids, mask)[0])),
                        {"E": E}, {"E": dE})
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- affine layer


@exercise("02_backprop", points=12, reference=clf.classifier_backward)
def check_classifier_backward(classifier_backward, seed: int = 0, hidden: bool = False) -> None:
    """Gradients {E, W, b, u} from ds and the cache (pool_cache, affine_cache, z, h, u, "tanh") of classifier_forward.

    The cache comes from the reference classifier_forward; while the check runs,
    affine_backward and average_pool_backward are the reference ones.
    """
    rng = np.random.default_rng(seed)
    name = "classifier_backward"
    cases = []
    for c in _classifier_cases(rng, hidden):
        params, ids, mask = c.args
        ds = rng.normal(size=(1, ids.shape[1])) / ids.shape[1]
        cases.append(Case(c.label, (ds, clf.classifier_forward(params, ids, mask)[1])))

    def hint(case, expected, got):
        ds, (pool_cache, (x, W), z, h, u, _) = case.args
        g = dict(zip(clf.KEYS, got))
        e = dict(zip(clf.KEYS, expected))
        chain = "dJ/dW = dJ/dy_hat * dy_hat/ds * ds/dh * dh/dz * dz/dW: "
        if close(g["W"], (u @ ds) @ x.T):
            return chain + "the factor dh/dz = f'(z) is missing (dz = (u ds) * (1 - tanh(z)**2), elementwise)."
        if g["W"].shape == e["W"].shape and close(g["W"], (ds * (1 - np.tanh(z) ** 2)) @ x.T):
            return chain + "the factor ds/dh = u is missing (dJ/dh = u ds, shape (H, N))."
        if close(g["W"], ((u @ ds) * (1 - h)) @ x.T) or close(g["W"], ((u @ ds) * (1 - z ** 2)) @ x.T):
            return chain + "dh/dz = tanh'(z) = 1 - tanh(z)**2 = 1 - h**2."
        if not close(g["u"], e["u"]) and close(g["u"], h @ ds.T * ds.shape[1]):
            return "du = h ds^T: ds already carries the 1/N of the mean; do not multiply or divide by N again."
        if close(g["W"], e["W"]) and not close(g["b"], e["b"]):
            return "dW is correct but db is not: did you sum delta over the batch?"
        ids, mask, V = pool_cache
        dx = W.T @ ((u @ ds) * (1 - h ** 2))
        assigned = np.zeros_like(e["E"])
        assigned[:, ids] = dx[:, None, :] * mask / mask.sum(axis=0)  # the last write wins
        if close(g["E"], assigned):
            return ("dE is wrong only for words that occur more than once: accumulate, do not assign. "
                    "dE[:, ids] = ... keeps one contribution; use average_pool_backward(dx, pool_cache).")

    with using_reference(classifier_backward, affine_backward=layers.affine_backward,
                         average_pool_backward=clf.average_pool_backward):
        caught = verify_cases(classifier_backward, clf.classifier_backward, cases, name=name, names=clf.KEYS,
                              mapping=True, hints=(hint,))
        if hidden:
            params, ids, mask = _classifier_cases(rng, False)[0].args
            y = rng.integers(0, 2, size=(1, ids.shape[1])).astype(float)
            s, cache = clf.classifier_forward(params, ids, mask)
            grads = call_student(classifier_backward, name,
                                 Case("finite differences", (losses.binary_cross_entropy_grad(s, y), cache)), caught)
            check_gradients(name, lambda p: losses.binary_cross_entropy(clf.classifier_forward(p, ids, mask)[0], y),
                            dict(params), grads)
    passed(name, len(cases) + hidden, caught)


# ---------------------------------------------------------------- SGD and training


@exercise("02_backprop", points=4, reference=optim.sgd_step)
def check_sgd_step(sgd_step, seed: int = 0, hidden: bool = False) -> None:
    """theta_new = theta - lr * grad for every key; params not modified."""
    rng = np.random.default_rng(seed)
    settings = [(("W", "b"), 0.1), (("E", "W", "b", "u"), 0.5)] + ([(("W1", "b1", "W2", "b2"), 2.0)] if hidden else [])
    cases = []
    for ks, lr in settings:
        params = {k: rng.normal(size=tuple(rng.integers(1, 5, size=2))) for k in ks}
        grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
        cases.append(Case(f"parameters {list(ks)}, lr = {lr}", (params, grads, lr)))

    def hint(case, expected, got):
        params, grads, lr = case.args
        if all(close(g, p + lr * grads[k]) for g, (k, p) in zip(got, params.items())):
            return "you stepped up the gradient; gradient descent subtracts: theta - alpha * grad."
        if any(close(g, p - other * grads[k]) for other in (0.1, 0.01, 1.0) if other != lr
               for g, (k, p) in zip(got, params.items())):
            return f"use the learning rate lr you are given (here {lr})."

    caught = []
    for case in cases:
        caught += verify_cases(sgd_step, optim.sgd_step, [case], name="sgd_step", mapping=True,
                               names=tuple(case.args[0]), hints=(hint,),
                               mutation_hint="Return a new dict; do not change params[k] (no -=): "
                                             "{k: params[k] - lr * grads[k] for k in params}.")
    passed("sgd_step", len(cases), caught)


TARGET_DEV_ACCURACY = 0.85


#: the schedule of the training check: short enough for grading, long enough for the target
TRAIN_SCHEDULE = {"lr": 1.0, "epochs": 5, "batch_size": 16}


def _check_minibatches(name, steps, column, data, schedule, epochs):
    """One SGD step per minibatch of batch_size training sentences, each epoch a new order of them all."""
    n, size = len(data.train), schedule["batch_size"]
    if any(forward is None for forward in steps):
        raise CheckFailure(f"{name} called sgd_step before any classifier_forward: each step follows the forward "
                           f"and backward pass of its minibatch.")
    per_epoch = -(-n // size)  # the last minibatch may be smaller
    sizes = [forward[0].shape[1] for forward in steps]
    if len(steps) != epochs * per_epoch:
        common = max(set(sizes), key=sizes.count) if sizes else 0
        told = (f" Your minibatches have {common} sentences: use the batch_size argument, not a fixed number."
                if common not in (0, size) else "")
        raise CheckFailure(f"{name} took {len(steps)} SGD steps in {epochs} epochs; with {n} training sentences and "
                           f"batch_size={size} there are {per_epoch} minibatches per epoch, one step each "
                           f"({epochs * per_epoch} in all).{told}")
    orders = [[column.get(ids[:, j].tobytes()) for ids, _ in steps[e * per_epoch:(e + 1) * per_epoch]
               for j in range(ids.shape[1])] for e in range(epochs)]
    if any(sorted(o) != list(range(n)) for o in orders if None not in o):
        raise CheckFailure("each epoch must visit every training sentence exactly once (minibatches cut from "
                           "rng.permutation(len(data.train))); one of your epochs skips or repeats sentences.")
    if epochs > 1 and orders[0] == orders[1]:
        raise CheckFailure(f"{name} feeds the same minibatches in the same order every epoch: draw a new "
                           f"order with rng.permutation at the start of each epoch.")


def _check_epoch_losses(name, steps, column, data, epochs, recorded):
    """history["loss"][e]: the mean of the losses of epoch e's minibatches (computed here from their scores)."""
    per_epoch = len(steps) // epochs
    losses_ = [losses.binary_cross_entropy(s, data.train.y[:, [column[ids[:, j].tobytes()]
                                                                for j in range(ids.shape[1])]])
               for ids, s in steps]
    for e in range(epochs):
        epoch = losses_[e * per_epoch:(e + 1) * per_epoch]
        got = np.asarray(recorded[e], dtype=float) if np.size(recorded[e]) == 1 else np.nan
        if not np.isclose(got, np.mean(epoch), rtol=1e-6, atol=1e-9):
            why = (" That is the loss of the epoch's last minibatch: record the mean over all its minibatches."
                   if np.isclose(got, epoch[-1], rtol=1e-6) else
                   " That is the loss of its first minibatch: record the mean over all its minibatches."
                   if np.isclose(got, epoch[0], rtol=1e-6) else
                   " That is the sum over the minibatches: divide by their number." if
                   np.isclose(got, np.sum(epoch), rtol=1e-6) else "")
            raise CheckFailure(f"history['loss'][{e}] must be the mean of the {len(epoch)} minibatch losses of epoch "
                               f"{e + 1}: expected {np.mean(epoch):.6g}, received {fmt(recorded[e])}.{why}")


@exercise("02_backprop", points=8, reference=clf.train_classifier)
def check_train_classifier(train_classifier, seed: int = 0, hidden: bool = False) -> None:
    """train_classifier(params, data, **TRAIN_SCHEDULE) -> (params, history) reaching the target dev accuracy.

    The data are loaded afresh (load_sentiment() is deterministic), so nothing the notebook did to its own
    copy matters.  While it runs, the functions of the earlier exercises it calls are the reference ones.
    """
    from ..data import load_sentiment
    name = "train_classifier"
    require_function(train_classifier, name)
    data, schedule = load_sentiment(), dict(TRAIN_SCHEDULE)
    params = clf.init_classifier(len(data.vocab), seed=seed)
    case = Case(f"training from init_classifier(V={len(data.vocab)}, seed={seed}) with {schedule or 'defaults'}",
                (params, data), schedule)
    column = {data.train.ids[:, j].tobytes(): j for j in range(len(data.train))}  # sentences are distinct
    last, steps = [None], []  # the latest forward pass; for each SGD step, the forward pass it followed

    def recording_forward(params, ids, mask, *rest):
        out = clf.classifier_forward(params, ids, mask, *rest)
        last[0] = (np.asarray(ids), out[0])
        return out

    def recording_step(params, grads, lr):
        steps.append(last[0])
        return optim.sgd_step(params, grads, lr)

    with using_reference(train_classifier, classifier_forward=recording_forward,
                         classifier_backward=clf.classifier_backward, sgd_step=recording_step,
                         binary_cross_entropy=losses.binary_cross_entropy,
                         binary_cross_entropy_grad=losses.binary_cross_entropy_grad):
        out = call_student(train_classifier, name, case, [], mutation_hint=(
            "Keep the parameters returned by sgd_step (params = sgd_step(params, grads, lr)) instead of "
            "changing the arrays of params in place."))
    require_returned(out, name, case, returns="(params, history)")
    if not isinstance(out, (tuple, list)) or len(out) != 2 or not isinstance(out[0], dict):
        raise CheckFailure(f"{name} must return (params, history); received {type(out).__name__}")
    trained, history = out
    missing = [k for k in clf.KEYS if k not in trained]
    if missing:
        raise CheckFailure(f"the params returned by {name} lack the keys {missing}")
    if all(np.array_equal(trained[k], params[k]) for k in clf.KEYS):
        raise CheckFailure(f"{name} returned the initial parameters unchanged: keep the result of sgd_step "
                           f"(params = sgd_step(params, grads, lr)).")
    epochs = schedule.get("epochs", 10)
    if not isinstance(history, dict) or len(history.get("loss", ())) != epochs:
        raise CheckFailure(f"history must be a dict whose 'loss' has one entry per epoch ({epochs}); received "
                           f"{type(history).__name__}" + (f" with 'loss' of length {len(history.get('loss', ()))}"
                                                         if isinstance(history, dict) else ""))
    if str(getattr(train_classifier, "__globals__", {}).get("__name__", "")).startswith("helpers"):
        pass  # the reference itself (its calls are not watched; the tests check it against the definition)
    elif not steps:
        raise CheckFailure(f"{name} must train with your functions: classifier_forward, binary_cross_entropy and "
                           f"its gradient, classifier_backward and sgd_step (the check watches those calls).")
    else:
        _check_minibatches(name, steps, column, data, schedule, epochs)
        _check_epoch_losses(name, steps, column, data, epochs, history["loss"])
    dev = clf.accuracy(trained, data.dev)
    if dev < TARGET_DEV_ACCURACY:
        raise CheckFailure(f"the trained classifier reaches a dev accuracy of {dev:.1%}; the target is "
                           f"{TARGET_DEV_ACCURACY:.0%}. Check that every minibatch takes one step on its own "
                           f"gradient, that the data are shuffled each epoch, and the learning rate.")
    print(f"✓ {name}: dev accuracy {dev:.1%} (target {TARGET_DEV_ACCURACY:.0%})")
