"""helpers.checks.backprop (the checks of 02_backprop): every check passes the reference with one
line, visible and hidden, for several seeds and the notebook's own; realistic student mistakes fail
with their specific hints; some mistakes only the hidden tests catch; the finite-difference stage;
each check grading its exercise alone; the progress table of 02."""
import re

import numpy as np
import pytest
from conftest import assert_fails_naming, one_success_line

import helpers.checks as checks
from helpers import classifier as clf
from helpers import gradcheck as gc
from helpers import layers, losses, optim
from helpers.activations import get_activation, sigmoid
from helpers.checks import EXERCISES, CheckFailure, progress
from helpers.checks.framework import check_gradients
from helpers.data.sentiment import load_sentiment

# wrong answers here are built on the reference: the delegation detector has its own tests
pytestmark = pytest.mark.usefixtures("without_delegation_check")

REFERENCE = {name: e.reference for name, e in EXERCISES["02_backprop"].items() if name != "train_classifier"}
CHECKS = {name: EXERCISES["02_backprop"][name].check for name in REFERENCE}


def in_place(name):
    """The framework's message for a function that changed its array arguments (its wording is being revised)."""
    return re.compile(rf"^{name} (modified its input in place|changed the values of an array it was given)")


def contains(message, word):
    return word.search(message) if isinstance(word, re.Pattern) else word in message


@pytest.fixture(scope="module")
def data():
    return load_sentiment()


# ---------------------------------------------------------------- the reference passes


@pytest.mark.parametrize("name, seed", [("average_pool_forward", 2), ("average_pool_backward", 5),
                                        ("mlp_backward", 4), ("mlp_backward", 21), ("mlp_backward", 209)])
def test_seeds_that_used_to_fail_the_reference(name, seed, capfd):
    # average pooling: a hidden batch with T = 1 and repeated words crashed the check (IndexError);
    # mlp_backward: a gradient element near 0 failed the finite differences by rounding alone
    CHECKS[name](REFERENCE[name], seed=seed, hidden=True)
    one_success_line(capfd, name)


@pytest.mark.parametrize("seed", [0, 1])
def test_reference_training_passes_the_training_check(seed, data, capfd):
    checks.check_train_classifier(clf.train_classifier, seed=seed)
    line = one_success_line(capfd, "train_classifier", rest=r"dev accuracy .*")
    accuracy = float(re.fullmatch(r"✓ train_classifier: dev accuracy ([\d.]+)% \(target 85%\)", line).group(1))
    assert accuracy >= 85


# ---------------------------------------------------------------- realistic mistakes


def bce_naive(s, y):
    y_hat = 1 / (1 + np.exp(-s))
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


def bce_slide_sign(s, y):
    y_hat = sigmoid(s)
    return float(np.mean(-y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


def bce_sum(s, y):
    return float(np.sum(np.logaddexp(0, s) - y * s))


def bce_grad_no_mean(s, y):
    return sigmoid(s) - y


def pool_forward_by_T(E, ids, mask):
    return (E[:, ids] * mask).sum(axis=1) / ids.shape[0], (ids, mask, E.shape[1])


def pool_forward_padding_averaged_in(E, ids, mask):
    return E[:, ids].mean(axis=1), (ids, mask, E.shape[1])


def pool_backward_assigns(dx, cache):
    ids, mask, V = cache
    dE = np.zeros((dx.shape[0], V))
    n = mask.sum(axis=0)
    for t in range(ids.shape[0]):
        for i in range(ids.shape[1]):
            dE[:, ids[t, i]] = mask[t, i] * dx[:, i] / n[i]
    return dE


def pool_backward_ignores_mask(dx, cache):
    ids, mask, V = cache
    dE = np.zeros((dx.shape[0], V))
    np.add.at(dE.T, ids, (dx[:, None, :] / mask.sum(axis=0)).transpose(1, 2, 0))
    return dE


def affine_backward_db_not_summed(dz, cache):
    a, W = cache
    return W.T @ dz, dz @ a.T, dz


def affine_forward_no_bias(a, W, b):
    return W @ a, (a, W)


def mlp_backward_fprime_of_a(dout, cache):
    params, a, z, names = cache["params"], cache["a"], cache["z"], cache["f"]
    L, grads, da = len(z) - 1, {}, dout
    for l in range(L, 0, -1):
        delta = da * get_activation(names[l])[1](a[l])  # f'(a^l) where the equation has f'(z^l)
        grads[f"W{l}"], grads[f"b{l}"] = delta @ a[l - 1].T, delta.sum(axis=1, keepdims=True)
        da = params[f"W{l}"].T @ delta
    return grads


def mlp_backward_sigmoid_shortcut_on_the_output(dout, cache):
    """The lecture's shortcut sigma'(z) = a (1 - a), used for any output activation other than identity."""
    params, a, z, names = cache["params"], cache["a"], cache["z"], cache["f"]
    L, grads, da = len(z) - 1, {}, dout
    for l in range(L, 0, -1):
        fprime = a[L] * (1 - a[L]) if l == L and names[L] != "identity" else get_activation(names[l])[1](z[l])
        delta = da * fprime
        grads[f"W{l}"], grads[f"b{l}"] = delta @ a[l - 1].T, delta.sum(axis=1, keepdims=True)
        da = params[f"W{l}"].T @ delta
    return grads


def numerical_gradient_one_sided(f, x, h=1e-5):
    grad, f0 = np.zeros_like(x, dtype=float), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - f0) / h
        x[i] = old
    return grad


def numerical_gradient_over_h(f, x, h=1e-5):
    return 2 * gc.numerical_gradient(f, x, h)


def numerical_gradient_add_subtract(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        x[i] += h
        f_plus = f(x)
        x[i] -= 2 * h
        f_minus = f(x)
        x[i] += h  # not always the old value, by rounding
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def classifier_forward_probability(params, ids, mask):
    s, cache = clf.classifier_forward(params, ids, mask)
    return sigmoid(s), cache


def classifier_backward_no_fprime(ds, cache):
    pool_cache, affine_cache, z, h, u, activation = cache
    dx, dW, db = layers.affine_backward(u @ ds, affine_cache)
    return {"E": clf.average_pool_backward(dx, pool_cache), "W": dW, "b": db, "u": h @ ds.T}


def classifier_backward_no_u(ds, cache):
    pool_cache, affine_cache, z, h, u, activation = cache
    dx, dW, db = layers.affine_backward(ds * (1 - h ** 2), affine_cache)
    return {"E": clf.average_pool_backward(dx, pool_cache), "W": dW, "b": db, "u": h @ ds.T}


def classifier_backward_dE_assigned(ds, cache):
    pool_cache, affine_cache, z, h, u, activation = cache
    dx, dW, db = layers.affine_backward((u @ ds) * (1 - h ** 2), affine_cache)
    ids, mask, V = pool_cache
    dE = np.zeros((dx.shape[0], V))
    dE[:, ids] = dx[:, None, :] * mask / mask.sum(axis=0)
    return {"E": dE, "W": dW, "b": db, "u": h @ ds.T}


def sgd_plus(params, grads, lr):
    return {k: v + lr * grads[k] for k, v in params.items()}


def sgd_in_place(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]
    return params


def sgd_for_the_classifier_keys_only(params, grads, lr):
    """Written for E, W, b, u; the guard `if k in params` makes the visible (W, b) case pass."""
    return {k: params[k] - lr * grads[k] for k in ("E", "W", "b", "u") if k in params}


def affine_forward_cache_swapped(a, W, b):  # found in a student run: the cache in the wrong order passed
    return W @ a + b, (W, a)


def pool_forward_cache_reordered(E, ids, mask):
    x, _ = clf.average_pool_forward(E, ids, mask)
    return x, (mask, ids, E.shape[1])


MISTAKES = [
    # (exercise, wrong implementation, words the message must contain)
    ("binary_cross_entropy", bce_naive, ["received nan", "confident scores", "Hint: log(y_hat) or log(1 - y_hat) "
                                         "reached log(0)", "np.logaddexp(0, s)"]),
    ("binary_cross_entropy", bce_slide_sign, ["Hint: that is the slide's formula", "the minus applies to the whole "
                                              "bracket"]),
    ("binary_cross_entropy", bce_sum, ["Hint: you summed over the batch; the loss is the mean"]),
    ("binary_cross_entropy_grad", bce_grad_no_mean, ["Hint: J is a mean over the N examples, so each dJ/ds_n carries "
                                                     "a factor 1/N"]),
    ("binary_cross_entropy_grad", lambda s, y: (y - sigmoid(s)) / s.shape[1], ["Hint: the sign is flipped"]),
    ("binary_cross_entropy_grad", lambda s, y: (s - y) / s.shape[1], ["Hint: you used s in place of y_hat"]),
    ("average_pool_forward", pool_forward_by_T, ["on case: padded sentences", "Hint: divide by the true length "
                                                 "n = mask.sum(axis=0) of each sentence, not by T"]),
    ("average_pool_forward", pool_forward_padding_averaged_in, ["Hint: padding was averaged in"]),
    ("average_pool_forward", lambda E, ids, mask: clf.average_pool_forward(E, ids, mask)[0],
     ["must return a pair (x, cache); received ndarray"]),
    ("average_pool_backward", pool_backward_assigns, ["Hint: the gradient into the word vectors is wrong only for "
                                                      "words that occur more than once: accumulate, do not assign"]),
    ("average_pool_backward", pool_backward_ignores_mask, ["on case: padded sentences", "Hint: the padding id 0 "
                                                           "received a gradient"]),
    ("affine_forward", affine_forward_no_bias, ["Hint: the bias is missing"]),
    ("affine_backward", affine_backward_db_not_summed, ["da, dW are correct but db is not", "expected shape (2, 1)",
                                                        "Hint: db must have the shape of b", "sum delta over the "
                                                        "batch"]),
    ("affine_backward", lambda dz, cache: tuple(g / dz.shape[1] for g in layers.affine_backward(dz, cache)),
     ["Hint: do not divide by N here"]),
    ("mlp_backward", mlp_backward_fprime_of_a, ["W2, b2 are correct but W1, b1 are not", "Hint: layer 2 is correct, "
                                                "layer 1 is the first wrong one", "use z^1, not a^1"]),
    ("numerical_gradient", numerical_gradient_one_sided, ["Hint: that looks like the one-sided difference"]),
    ("numerical_gradient", numerical_gradient_over_h, ["Hint: divide by 2h"]),
    ("numerical_gradient", numerical_gradient_add_subtract, [in_place("numerical_gradient")]),
    ("classifier_forward", classifier_forward_probability, ["Hint: return the score s = u^T h, not y_hat"]),
    ("classifier_backward", classifier_backward_no_fprime, ["u is correct but E, W, b are not",
                                                            "Hint: dJ/dW = dJ/dy_hat * dy_hat/ds * ds/dh * dh/dz",
                                                            "the factor dh/dz = f'(z) is missing"]),
    ("classifier_backward", classifier_backward_no_u, ["the factor ds/dh = u is missing"]),
    ("classifier_backward", classifier_backward_dE_assigned, ["W, b, u are correct but E is not",
                                                              "Hint: dE is wrong only for words that occur more than "
                                                              "once: accumulate, do not assign"]),
    ("sgd_step", sgd_plus, ["Hint: you stepped up the gradient"]),
    ("sgd_step", sgd_in_place, [in_place("sgd_step")]),
    ("affine_forward", affine_forward_cache_swapped, ["z is correct but cache[0] (a), cache[1] (W) are not",
                                                      "Hint: the cache must be (a, W), in that order"]),
    ("average_pool_forward", pool_forward_cache_reordered, ["cache[0] (ids), cache[1] (mask) are not",
                                                            "Hint: x is right; the cache must be (ids, mask, V)"]),
]


@pytest.mark.parametrize("name, wrong, words", MISTAKES, ids=[f"{m[0]}-{m[1].__name__}" for m in MISTAKES])
def test_a_realistic_mistake_fails_with_its_hint(name, wrong, words, capfd):
    assert_fails_naming(CHECKS[name], wrong, words, capfd, contains=contains)


@pytest.mark.parametrize("name, wrong, words", [
    ("mlp_backward", mlp_backward_sigmoid_shortcut_on_the_output, ["output f = tanh", "Hint: the last layer is "
                                                                   "already wrong"]),
    ("sgd_step", sgd_for_the_classifier_keys_only, ["the keys ['W1', 'b1', 'W2', 'b2'] are missing"]),
])
@pytest.mark.parametrize("seed", [0, 7, 101])
def test_a_mistake_only_the_hidden_tests_catch(name, wrong, words, seed, capfd):
    CHECKS[name](wrong, seed=seed)  # right on every visible case
    one_success_line(capfd, name)
    with pytest.raises(CheckFailure) as info:
        CHECKS[name](wrong, seed=seed, hidden=True)
    for word in words:
        assert contains(str(info.value), word), f"{word!r} not in:\n{info.value}"


def train_returns_initial(params, data, lr=1.0, epochs=10, batch_size=32, seed=0):
    return params, {"loss": []}


STUDENT_TRAINING = """
import numpy as np


def train_classifier(params, data, lr=1.0, epochs=10, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    train, history = data.train, {"loss": []}
    batch_size = BATCH or batch_size
    for epoch in range(epochs):
        order, losses = rng.permutation(len(train)), []
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            s, cache = classifier_forward(params, train.ids[:, batch], train.mask[:, batch])
            y = train.y[:, batch]
            losses.append(binary_cross_entropy(s, y))
            params = sgd_step(params, classifier_backward(binary_cross_entropy_grad(s, y), cache), LR * lr)
        history["loss"].append(RECORD(losses))
    return params, history
"""


def student_training(lr_factor=1.0, batch=None, record=np.mean):
    """A train_classifier written as a student writes it in the notebook (calling the notebook's functions)."""
    ns = {"classifier_forward": clf.classifier_forward, "classifier_backward": clf.classifier_backward,
          "binary_cross_entropy": losses.binary_cross_entropy, "sgd_step": optim.sgd_step,
          "binary_cross_entropy_grad": losses.binary_cross_entropy_grad, "LR": lr_factor, "BATCH": batch,
          "RECORD": lambda values: float(record(values))}
    exec(STUDENT_TRAINING, ns)
    return ns["train_classifier"]


train_with_a_tiny_learning_rate = student_training(lr_factor=0.01)


def train_in_place(params, data, lr=1.0, epochs=10, batch_size=32, seed=0):
    trained, history = clf.train_classifier(params, data, lr, epochs, batch_size, seed)
    for k in params:
        params[k][...] = trained[k]
    return params, history


def test_a_training_loop_written_as_in_the_notebook_passes(data, capsys):
    checks.check_train_classifier(student_training())
    assert capsys.readouterr().out.startswith("✓ train_classifier: dev accuracy")


@pytest.mark.parametrize("wrong, words", [
    (train_returns_initial, ["train_classifier returned the initial parameters unchanged", "params = sgd_step("]),
    (train_with_a_tiny_learning_rate, ["the trained classifier reaches a dev accuracy of", "the target is 85%",
                                       "the learning rate"]),
    (train_in_place, [in_place("train_classifier")]),
    (lambda params, data, **schedule: clf.train_classifier(params, data, **schedule)[0],
     ["train_classifier must return (params, history); received dict"]),
    (student_training(record=lambda values: values[-1]),
     ["history['loss'][0] must be the mean of the 263 minibatch losses of epoch 1",
      "That is the loss of the epoch's last minibatch: record the mean over all its minibatches."]),
    (student_training(batch=32),
     ["train_classifier took 660 SGD steps in 5 epochs; with 4200 training sentences and batch_size=16 there are "
      "263 minibatches per epoch", "Your minibatches have 32 sentences: use the batch_size argument"]),
    (lambda params, data, **schedule: clf.train_classifier(params, data, **schedule),
     ["train_classifier must train with your functions: classifier_forward"]),
], ids=["initial-params", "lr-too-small", "in-place", "no-history", "last-minibatch-loss", "hard-coded-batch-size",
        "not-using-its-functions"])
def test_a_wrong_training_loop_fails(wrong, words, data, capsys):
    with pytest.raises(CheckFailure) as info:
        checks.check_train_classifier(wrong)
    for word in words:
        assert contains(str(info.value), word), f"{word!r} not in:\n{info.value}"
    assert "✓" not in capsys.readouterr().out


# ---------------------------------------------------------------- generic failures


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


def test_training_not_implemented(data):
    with pytest.raises(CheckFailure, match=r"^train_classifier is not implemented yet"):
        checks.check_train_classifier(not_implemented)


@pytest.mark.parametrize("name, what", [("average_pool_forward", "(x, cache)"), ("affine_forward", "(z, cache)"),
                                        ("classifier_forward", "(s, cache)")])
def test_a_forward_that_returns_no_cache_is_told_so_directly(name, what):
    # the check's own message, not "raised CheckFailure ... see the traceback above for the line in your code"
    with pytest.raises(CheckFailure) as info:
        CHECKS[name](lambda *args: REFERENCE[name](*args)[0])
    assert str(info.value) == f"{name} must return a pair {what}; received ndarray"


def test_a_classifier_forward_with_another_cache_format_is_told_so_directly():
    def forward_with_four_part_cache(params, ids, mask):
        s, (pool_cache, affine_cache, z, h, u, activation) = clf.classifier_forward(params, ids, mask)
        return s, (pool_cache, affine_cache, h, u)

    with pytest.raises(CheckFailure) as info:
        checks.check_classifier_forward(forward_with_four_part_cache)
    assert str(info.value) == ("classifier_forward's cache must be (pool_cache, affine_cache, z, h, u, \"tanh\"); "
                               "received tuple of length 4")


def test_a_classifier_forward_whose_cache_lacks_the_activation_is_told_so():
    def forward_with_five_part_cache(params, ids, mask):  # the cache format before the activation joined it
        s, cache = clf.classifier_forward(params, ids, mask)
        return s, cache[:5]

    def forward_naming_another_activation(params, ids, mask):
        s, cache = clf.classifier_forward(params, ids, mask)
        return s, (*cache[:5], "relu")

    with pytest.raises(CheckFailure, match=r"received tuple of length 5"):
        checks.check_classifier_forward(forward_with_five_part_cache)
    with pytest.raises(CheckFailure, match=r"cache\[5\] must be the name of the activation, \"tanh\""):
        checks.check_classifier_forward(forward_naming_another_activation)


# ---------------------------------------------------------------- the finite-difference stage


def test_check_gradients_fails_a_wrong_gradient_and_names_the_element():
    x = np.array([[1.0, -2.0, 0.5]])
    check_gradients("double", lambda p: float(np.sum(p["x"] ** 2)), {"x": x}, {"x": 2 * x})
    wrong = 2 * x
    wrong[0, 1] *= 1.01
    with pytest.raises(CheckFailure, match=r"^double disagrees with finite differences: dx\[0, 1\] is -4.04 by your "
                                           r"function but -4 by \(J\(x\+h\) - J\(x-h\)\) / 2h \(relative error "
                                           r"5.0e-03\)\.$"):
        check_gradients("double", lambda p: float(np.sum(p["x"] ** 2)), {"x": x}, {"x": wrong})
    with pytest.raises(CheckFailure, match=r"^double returned dx of shape \(3,\); expected shape \(1, 3\)$"):
        check_gradients("double", lambda p: float(np.sum(p["x"] ** 2)), {"x": x}, {"x": wrong[0]})
    np.testing.assert_array_equal(x, [[1.0, -2.0, 0.5]])


def test_check_gradients_forgives_rounding_on_an_element_near_zero_but_not_a_wrong_one():
    # J = 1e6 * (x0 - 1)^2 / 2 + 1e-7 * x1: the central difference of dJ/dx1 = 1e-7 is off by rounding in J
    def J(p):
        x = p["x"]
        return float(1e6 * (x[0] - 1.0) ** 2 / 2 + 1e-7 * x[1])

    x = np.array([1.001, 0.3])
    right = np.array([1e6 * 0.001, 1e-7])
    assert gc.relative_error(gc.numerical_gradient(lambda v: J({"x": v}), x.copy()), right)[1] > 1e-6, \
        "a purely relative comparison would fail this correct gradient"
    assert gc.gradcheck(lambda v: J({"x": v}), x.copy(), right).passed  # gradcheck's floor forgives it
    check_gradients("f", J, {"x": x}, {"x": right})
    with pytest.raises(CheckFailure, match=r"dx\[0\]"):
        check_gradients("f", J, {"x": x}, {"x": right * [1.001, 1.0]})


def test_the_finite_difference_stage_can_fail(capfd):
    # artificial, to show the stage runs: right on every compared case, wrong on the (1, 6) scores of the
    # finite-difference stage.  (No realistic mistake is caught by this stage alone: it re-runs the student's
    # function on inputs of the same kind as the compared cases.)
    def wrong_on_six(s, y):
        g = losses.binary_cross_entropy_grad(s, y)
        return 2 * g if s.shape == (1, 6) else g

    checks.check_binary_cross_entropy_grad(wrong_on_six)
    one_success_line(capfd, "binary_cross_entropy_grad")
    with pytest.raises(CheckFailure, match=r"^binary_cross_entropy_grad disagrees with finite differences: ds\[0, "):
        checks.check_binary_cross_entropy_grad(wrong_on_six, hidden=True)


# ---------------------------------------------------------------- one exercise at a time, and progress


NOTEBOOK_CODE = """
def average_pool_backward(dx, cache):      # wrong: assigns
    ids, mask, V = cache
    dE = np.zeros((dx.shape[0], V))
    dE[:, ids] = dx[:, None, :] * mask / mask.sum(axis=0)
    return dE


def classifier_backward(ds, cache):        # right, built on the (wrong) average_pool_backward
    pool_cache, affine_cache, z, h, u, activation = cache
    dx, dW, db = affine_backward((u @ ds) * (1 - h ** 2), affine_cache)
    return {"E": average_pool_backward(dx, pool_cache), "W": dW, "b": db, "u": h @ ds.T}
"""


def test_a_check_grades_its_exercise_alone_and_restores_the_notebook(capfd):
    ns = {"np": np, "affine_backward": layers.affine_backward}
    exec(NOTEBOOK_CODE, ns)
    wrong_pool = ns["average_pool_backward"]
    checks.check_classifier_backward(ns["classifier_backward"], hidden=True)  # the mistake is counted once, ...
    one_success_line(capfd, "classifier_backward")
    with pytest.raises(CheckFailure, match="accumulate, do not assign"):  # ... by its own check
        checks.check_average_pool_backward(wrong_pool)
    assert ns["average_pool_backward"] is wrong_pool and ns["affine_backward"] is layers.affine_backward


def notebook_namespace(data, **changes):
    ns = {**REFERENCE, "train_classifier": clf.train_classifier, "data": data}
    ns.update(changes)
    return {k: v for k, v in ns.items() if v is not None}


def test_progress_of_02(data, capfd):
    rows = progress("02_backprop", notebook_namespace(data))
    assert [r[0] for r in rows] == list(EXERCISES["02_backprop"])
    assert all(status == "passes" for _, _, status, _ in rows) and sum(r[1] for r in rows) == 100
    rows = progress("02_backprop", notebook_namespace(data, sgd_step=sgd_plus, mlp_backward=not_implemented,
                                                      classifier_forward=None))
    status = {name: s for name, _, s, _ in rows}
    assert status["sgd_step"] == "fails" and status["mlp_backward"] == "not started"
    assert status["classifier_forward"] == "missing" and status["train_classifier"] == "passes"
    assert sum(s == "passes" for s in status.values()) == len(status) - 3
    assert capfd.readouterr() == ("", "")
