"""helpers.clipping: the global norm against a sum written out, norm clipping keeps the direction and caps
the length (and changes nothing below the threshold), value clipping caps each element and turns the
direction, inputs are never modified, dtypes are kept, and bad arguments are named."""
import math

import numpy as np
import pytest

from helpers.clipping import clip_by_global_norm, clip_by_value, global_norm


def grads(scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(0)
    shapes = {"Wx": (4, 3), "Wh": (4, 4), "b": (4, 1)}
    return {k: (scale * rng.normal(size=shape)).astype(dtype) for k, shape in shapes.items()}


def norm_by_loops(g):
    return math.sqrt(math.fsum(float(v) ** 2 for array in g.values() for v in np.ravel(array)))


def flat(g):
    return np.concatenate([np.ravel(g[k]) for k in sorted(g)])


def test_global_norm_is_the_norm_of_all_gradients_together():
    g = grads()
    assert global_norm(g) == pytest.approx(norm_by_loops(g), rel=1e-14)
    assert global_norm({}) == 0.0
    assert global_norm({"a": np.array([[3.0]]), "b": np.array([4.0])}) == 5.0
    transposed = {k: v.T for k, v in g.items()}                          # non-contiguous arrays
    assert global_norm(transposed) == pytest.approx(norm_by_loops(g), rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_clipping_caps_the_length_and_keeps_the_direction(dtype):
    g = grads(scale=10.0, dtype=dtype)
    before = {k: v.copy() for k, v in g.items()}
    clipped, total = clip_by_global_norm(g, 2.0)
    assert total == pytest.approx(norm_by_loops(g), rel=1e-6)
    assert norm_by_loops(clipped) == pytest.approx(2.0, rel=1e-6)
    c = flat(clipped) / flat(g)                                          # one factor for every element
    np.testing.assert_allclose(c, 2.0 / norm_by_loops(g), rtol=1e-6)
    assert all(clipped[k].dtype == dtype and clipped[k].shape == g[k].shape for k in g)
    assert all(np.array_equal(g[k], before[k]) for k in g)              # inputs unchanged


def test_norm_clipping_below_the_threshold_changes_nothing():
    g = grads()
    clipped, total = clip_by_global_norm(g, norm_by_loops(g) * 1.01)
    assert total == pytest.approx(norm_by_loops(g))
    assert set(clipped) == set(g) and clipped is not g
    for k in g:
        np.testing.assert_array_equal(clipped[k], g[k])
        assert clipped[k] is not g[k]                                    # new arrays: the caller may update them
    clipped, _ = clip_by_global_norm(g, norm_by_loops(g))                # exactly at the threshold: unchanged
    assert all(np.array_equal(clipped[k], g[k]) for k in g)


def test_norm_clipping_reports_a_non_finite_norm_and_scales_nothing():
    g = grads()
    g["b"][0, 0] = np.nan
    clipped, total = clip_by_global_norm(g, 1.0)
    assert math.isnan(total)
    np.testing.assert_array_equal(clipped["Wx"], g["Wx"])
    g["b"][0, 0] = np.inf
    clipped, total = clip_by_global_norm(g, 1.0)
    assert total == math.inf and np.array_equal(clipped["Wh"], g["Wh"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_value_clipping_caps_each_element_and_turns_the_direction(dtype):
    g = {"a": np.array([[3.0, -0.5], [0.2, -7.0]], dtype=dtype), "b": np.array([[1.5]], dtype=dtype)}
    before = {k: v.copy() for k, v in g.items()}
    clipped = clip_by_value(g, 1.0)
    np.testing.assert_array_equal(clipped["a"], np.array([[1.0, -0.5], [0.2, -1.0]], dtype=dtype))
    np.testing.assert_array_equal(clipped["b"], np.array([[1.0]], dtype=dtype))
    assert all(clipped[k].dtype == dtype for k in g)
    assert all(np.array_equal(g[k], before[k]) for k in g)
    cosine = flat(clipped) @ flat(g) / (np.linalg.norm(flat(clipped)) * np.linalg.norm(flat(g)))
    assert cosine < 0.99                                                 # not a multiple of g: direction changed
    big = clip_by_value(g, 100.0)                                        # nothing above the value: unchanged
    assert all(np.array_equal(big[k], g[k]) and big[k] is not g[k] for k in g)


@pytest.mark.parametrize("call, error, message", [
    (lambda: clip_by_global_norm(grads(), 0.0), ValueError,
     r"^clip_by_global_norm: argument 'max_norm' must be a positive finite number; received 0.0"),
    (lambda: clip_by_global_norm(grads(), float("inf")), ValueError,
     r"^clip_by_global_norm: argument 'max_norm' must be a positive finite number; received inf"),
    (lambda: clip_by_value(grads(), -1), ValueError,
     r"^clip_by_value: argument 'value' must be a positive finite number; received -1"),
    (lambda: clip_by_global_norm([np.ones(3)], 1.0), TypeError,
     r"^clip_by_global_norm: argument 'grads' must be a dict of arrays; received list"),
    (lambda: global_norm({"W": "abc"}), TypeError, r"^global_norm: argument 'grads\['W'\]' must be a real numeric"),
    (lambda: clip_by_value({"W": np.ones(2)}, True), ValueError,
     r"^clip_by_value: argument 'value' must be a positive finite number; received True"),
])
def test_argument_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
