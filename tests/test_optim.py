"""helpers.optim.sgd_step: theta - lr * grad element by element, a new dict with new arrays, the
inputs untouched, and errors on a missing gradient, a wrong shape and a bad learning rate."""
import math
import re

import numpy as np
import pytest

from helpers.optim import sgd_step


def make(seed=0):
    rng = np.random.default_rng(seed)
    params = {"E": rng.normal(size=(3, 5)), "W": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 1)),
              "u": rng.normal(size=(2, 1))}
    grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
    return params, grads


@pytest.mark.parametrize("lr", [0.1, 1, 2.5, np.float64(0.3), np.float32(0.5), np.int64(2)])
def test_sgd_step_subtracts_lr_times_the_gradient_elementwise(lr):
    params, grads = make()
    new = sgd_step(params, grads, lr)
    assert list(new) == list(params)
    for key, value in params.items():
        expected = [[value[i, j] - float(lr) * grads[key][i, j] for j in range(value.shape[1])]
                    for i in range(value.shape[0])]
        np.testing.assert_allclose(new[key], expected, rtol=1e-6 if isinstance(lr, np.float32) else 1e-15)
        assert new[key].shape == value.shape


def test_sgd_step_returns_new_arrays_and_leaves_its_inputs_alone():
    params, grads = make(1)
    before_p = {k: v.copy() for k, v in params.items()}
    before_g = {k: v.copy() for k, v in grads.items()}
    new = sgd_step(params, grads, 0.5)
    assert new is not params and sorted(params) == sorted(before_p)
    for key in params:
        assert new[key] is not params[key] and not np.shares_memory(new[key], params[key])
        np.testing.assert_array_equal(params[key], before_p[key])
        np.testing.assert_array_equal(grads[key], before_g[key])
    new["W"][0, 0] = 123.0  # writing into the result does not reach the old parameters
    assert params["W"][0, 0] == before_p["W"][0, 0]


def test_sgd_step_ignores_extra_gradients_and_accepts_integer_ones():
    params = {"w": np.array([[1.0, 2.0]])}
    new = sgd_step(params, {"w": np.array([[1, -1]]), "unused": np.zeros(3)}, 0.5)
    assert list(new) == ["w"]
    np.testing.assert_array_equal(new["w"], [[0.5, 2.5]])


def test_a_missing_gradient_is_named():
    params, grads = make()
    del grads["b"]
    with pytest.raises(ValueError, match=r"^sgd_step: argument 'grads' is missing key\(s\) \['b'\]; expected keys "
                                         r"\['E', 'W', 'b', 'u'\], received keys \['E', 'W', 'u'\]"):
        sgd_step(params, grads, 0.1)
    with pytest.raises(TypeError, match=r"^sgd_step: argument 'grads' must be a dict; received list"):
        sgd_step(params, list(grads.values()), 0.1)


@pytest.mark.parametrize("key, shape", [("W", (3, 2)), ("b", (2,)), ("b", (1, 1)), ("u", (2, 2))])
def test_a_gradient_of_the_wrong_shape_is_named_even_if_it_would_broadcast(key, shape):
    params, grads = make()
    grads[key] = np.zeros(shape)
    expected = params[key].shape
    with pytest.raises(ValueError, match=rf"^sgd_step: argument 'grads\['{key}'\]' must have shape "
                                         rf"{re.escape(str(expected))} like params\['{key}'\]; received shape "
                                         rf"{re.escape(str(shape))}"):
        sgd_step(params, grads, 0.1)


@pytest.mark.parametrize("lr", [0, 0.0, -0.1, -1, math.nan, math.inf, -math.inf, True, "0.1", None, [0.1],
                                np.array([0.1, 0.2])])
def test_a_learning_rate_that_is_not_a_positive_number_is_rejected(lr):
    params, grads = make()
    with pytest.raises(ValueError, match=r"^sgd_step: argument 'lr' must be a positive finite number; received "):
        sgd_step(params, grads, lr)
