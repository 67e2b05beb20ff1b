"""helpers.classifier: average pooling against per-sentence loops, every gradient against central
differences (repeated words, padding), errors on bad input, and training: the dev accuracy target,
and the notebook's claim that averaging handles plain sentences but not contrast."""
import math

import numpy as np
import pytest

from helpers import classifier as clf
from helpers.data.sentiment import Split, load_sentiment
from helpers.gradcheck import gradcheck
from helpers.losses import binary_cross_entropy, binary_cross_entropy_grad

SCALAR = {"sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)), "tanh": math.tanh, "relu": lambda v: max(v, 0.0),
          "identity": lambda v: v}

# a batch of N = 4 sentences (one per row here, transposed to (T, N) = (5, 4)): word 3 twice in sentence 0
# and once in sentences 1 and 2, word 5 twice in sentence 2 and in sentences 0 and 1; padding (mask 0) with
# id 0 and, in sentence 1, with real ids 6 and 7 that must be ignored
IDS = np.array([[3, 4, 5, 3, 2],
                [3, 6, 5, 6, 7],
                [5, 7, 5, 3, 0],
                [2, 6, 0, 0, 0]]).T.copy()
LENGTHS = [5, 3, 4, 2]
MASK = (np.arange(5)[:, None] < np.array(LENGTHS)[None, :]).astype(float)


def pool_by_loops(E, ids, mask):
    """x_n: the mean of E[:, w] over the words w of sentence n (mask 1), one sentence at a time."""
    D, (T, N) = E.shape[0], ids.shape
    x = np.zeros((D, N))
    for n in range(N):
        words = [ids[t, n] for t in range(T) if mask[t, n] == 1]
        for d in range(D):
            x[d, n] = math.fsum(E[d, w] for w in words) / len(words)
    return x


def scores_by_loops(params, ids, mask, activation="tanh"):
    """s_n = sum_i u_i f(sum_j W_ij x_jn + b_i), in Python floats."""
    x, f = pool_by_loops(params["E"], ids, mask), SCALAR[activation]
    H, D = params["W"].shape
    return np.array([[math.fsum(params["u"][i, 0] * f(math.fsum(params["W"][i, j] * x[j, n] for j in range(D))
                                                         + params["b"][i, 0]) for i in range(H))
                      for n in range(ids.shape[1])]])


def random_params(V=8, D=3, H=4, seed=0):
    params = clf.init_classifier(V, D, H, seed=seed)
    params["b"] = np.random.default_rng(seed + 1).normal(scale=0.5, size=(H, 1))
    return params


@pytest.fixture(scope="module")
def data():
    return load_sentiment()


@pytest.fixture(scope="module")
def initial(data):
    return clf.init_classifier(len(data.vocab), seed=0)


@pytest.fixture(scope="module")
def trained(data, initial):
    """The training check's schedule (lr=1.0, epochs=5, batch_size=16); initial params kept for comparison."""
    before = {k: v.copy() for k, v in initial.items()}
    params, history = clf.train_classifier(initial, data, lr=1.0, epochs=5, batch_size=16)
    return params, history, before


def correct_by_kind(params, split, activation="tanh"):
    right = (scores_by_formula(params, split.ids, split.mask, activation) > 0) == (split.y[0] == 1)
    return {kind: float(right[split.kinds == kind].mean()) for kind in np.unique(split.kinds)}


def scores_by_formula(params, ids, mask, activation="tanh"):
    """The classifier written out in NumPy for a whole split (too slow with loops): s (N,)."""
    f = {"tanh": np.tanh, "identity": lambda z: z}[activation]
    x = (params["E"][:, ids] * mask[None]).sum(axis=1) / mask.sum(axis=0)
    return (params["u"].T @ f(params["W"] @ x + params["b"]))[0]


# ---------------------------------------------------------------- init_classifier


def test_init_classifier_shapes_scales_and_determinism():
    p = clf.init_classifier(12)
    assert {k: v.shape for k, v in p.items()} == {"E": (16, 12), "W": (16, 16), "b": (16, 1), "u": (16, 1)}
    assert np.all(p["b"] == 0)
    again, other = clf.init_classifier(12), clf.init_classifier(12, seed=1)
    assert all(np.array_equal(p[k], again[k]) for k in p)
    assert not np.array_equal(p["E"], other["E"]) and not np.array_equal(p["W"], other["W"])
    big = clf.init_classifier(V=3000, D=100, H=400, seed=2)  # E ~ N(0, 1), W ~ N(0, 1/D), u ~ N(0, 1/H)
    assert big["E"].std() == pytest.approx(1.0, rel=0.02) and abs(big["E"].mean()) < 0.01
    assert big["W"].std() == pytest.approx(100 ** -0.5, rel=0.02)
    assert big["u"].std() == pytest.approx(400 ** -0.5, rel=0.1)


# ---------------------------------------------------------------- average pooling


def test_average_pool_forward_equals_a_loop_over_the_words_of_each_sentence():
    E = np.random.default_rng(0).normal(size=(3, 8))
    x, cache = clf.average_pool_forward(E, IDS, MASK)
    assert x.shape == (3, 4)
    np.testing.assert_allclose(x, pool_by_loops(E, IDS, MASK), rtol=1e-13)
    # sentence 0 by hand: words 3, 4, 5, 3, 2
    np.testing.assert_allclose(x[:, 0], (2 * E[:, 3] + E[:, 4] + E[:, 5] + E[:, 2]) / 5, rtol=1e-13)
    ids_cached, mask_cached, V = cache
    assert V == 8 and np.array_equal(ids_cached, IDS) and np.array_equal(mask_cached, MASK)


def test_average_pool_forward_ignores_what_is_under_the_padding():
    E = np.random.default_rng(1).normal(size=(3, 8))
    zero_padded = np.where(MASK > 0, IDS, 0)
    np.testing.assert_allclose(clf.average_pool_forward(E, zero_padded, MASK)[0],
                               clf.average_pool_forward(E, IDS, MASK)[0], rtol=1e-14)
    longer = np.vstack([IDS, np.full((3, 4), 7)])  # three more padding rows
    np.testing.assert_allclose(clf.average_pool_forward(E, longer, np.vstack([MASK, np.zeros((3, 4))]))[0],
                               pool_by_loops(E, IDS, MASK), rtol=1e-13)


def test_average_pool_forward_single_word_and_single_sentence():
    E = np.arange(12.0).reshape(3, 4)
    x, _ = clf.average_pool_forward(E, np.array([[2]]), np.array([[1.0]]))
    np.testing.assert_array_equal(x, E[:, [2]])


def test_average_pool_forward_errors_name_function_argument_expected_and_received():
    E = np.zeros((3, 8))
    for bad, low, high in ((8, 0, 8), (-1, -1, 7)):
        ids = IDS.copy()
        ids[0, 0] = bad
        with pytest.raises(ValueError, match=rf"^average_pool_forward: argument 'ids' must hold word ids in "
                                             rf"\[0, 8\); received ids from {low} to {high}$"):
            clf.average_pool_forward(E, ids, MASK)
    with pytest.raises(TypeError, match=r"^average_pool_forward: argument 'ids' must be a 2-D integer array \(T, N\); "
                                        r"received float64 array of shape \(5, 4\)$"):
        clf.average_pool_forward(E, IDS.astype(float), MASK)
    with pytest.raises(TypeError, match=r"^average_pool_forward: argument 'ids' must be a 2-D integer array \(T, N\); "
                                        r"received int64 array of shape \(5,\)$"):
        clf.average_pool_forward(E, IDS[:, 0].astype(np.int64), MASK[:, 0])
    with pytest.raises(ValueError, match=r"^average_pool_forward: argument 'mask' must have shape \(5, 4\); "
                                         r"received shape \(4, 5\)$"):
        clf.average_pool_forward(E, IDS, MASK.T)
    empty = MASK.copy()
    empty[:, 2] = 0
    with pytest.raises(ValueError, match=r"^average_pool_forward: argument 'mask' must mark at least one word in "
                                         r"every sentence \(column\); received empty columns \[2\]$"):
        clf.average_pool_forward(E, IDS, empty)


def test_average_pool_backward_equals_a_loop_that_accumulates():
    dx = np.random.default_rng(2).normal(size=(3, 4))
    dE = clf.average_pool_backward(dx, (IDS, MASK, 8))
    expected = np.zeros((3, 8))
    for n, length in enumerate(LENGTHS):
        for t in range(length):
            expected[:, IDS[t, n]] += dx[:, n] / length
    np.testing.assert_allclose(dE, expected, rtol=1e-13, atol=1e-15)
    # word 3: twice in sentence 0 (of 5 words), once in sentence 1 (of 3) and once in sentence 2 (of 4)
    np.testing.assert_allclose(dE[:, 3], 2 * dx[:, 0] / 5 + dx[:, 1] / 3 + dx[:, 2] / 4, rtol=1e-13)
    assert np.all(dE[:, 0] == 0), "the padding id gets no gradient"
    assert np.all(dE[:, 1] == 0), "a word that does not occur gets no gradient"


@pytest.mark.parametrize("ids, mask", [(IDS, MASK), (np.array([[5]]), np.array([[1.0]])),
                                       (np.array([[2, 2, 2, 0]]).T, np.array([[1.0, 1.0, 1.0, 0.0]]).T)],
                         ids=["repeats-and-padding", "T=N=1", "one-word-three-times"])
def test_average_pool_backward_matches_central_differences(ids, mask):
    rng = np.random.default_rng(3)
    E = rng.normal(size=(3, 8))
    R = rng.normal(size=(3, ids.shape[1]))  # J = sum(R * x), so dJ/dx = R
    dE = clf.average_pool_backward(R, clf.average_pool_forward(E, ids, mask)[1])
    assert dE.shape == E.shape
    report = gradcheck(lambda e: float(np.sum(R * clf.average_pool_forward(e, ids, mask)[0])), E, dE)
    assert report.passed, str(report)


def test_an_assigning_pool_backward_fails_the_gradient_check():
    # the check above can fail: dE[:, ids] = ... keeps one contribution of a repeated word
    rng = np.random.default_rng(4)
    E, R = rng.normal(size=(3, 8)), rng.normal(size=(3, 4))
    wrong = np.zeros((3, 8))
    wrong[:, IDS] = R[:, None, :] * MASK / MASK.sum(axis=0)
    report = gradcheck(lambda e: float(np.sum(R * clf.average_pool_forward(e, IDS, MASK)[0])), E, wrong)
    assert not report.passed


def test_average_pool_backward_wrong_dx():
    with pytest.raises(ValueError, match=r"^average_pool_backward: argument 'dx' must have shape \(\?, 4\); "
                                         r"received shape \(3, 5\)$"):
        clf.average_pool_backward(np.zeros((3, 5)), (IDS, MASK, 8))


# ---------------------------------------------------------------- the classifier


@pytest.mark.parametrize("activation", sorted(SCALAR))
def test_classifier_forward_equals_the_formula_sentence_by_sentence(activation):
    params = random_params(seed=5)
    s, cache = clf.classifier_forward(params, IDS, MASK, activation)
    assert s.shape == (1, 4)
    np.testing.assert_allclose(s, scores_by_loops(params, IDS, MASK, activation), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(clf.predict_proba(params, IDS, MASK, activation),
                               [[1 / (1 + math.exp(-v)) for v in s[0]]], rtol=1e-14)


def test_classifier_forward_cache_is_the_documented_tuple():
    params = random_params(seed=6)
    _, cache = clf.classifier_forward(params, IDS, MASK)
    pool_cache, (x, W), z, h, u, activation = cache  # (pool_cache, affine_cache, z, h, u, activation)
    assert activation == "tanh"
    assert pool_cache[2] == 8 and np.array_equal(pool_cache[0], IDS)
    np.testing.assert_allclose(x, pool_by_loops(params["E"], IDS, MASK), rtol=1e-13)
    np.testing.assert_array_equal(W, params["W"])
    np.testing.assert_allclose(z, params["W"] @ x + params["b"], rtol=1e-13)
    np.testing.assert_allclose(h, np.tanh(z), rtol=1e-15)
    np.testing.assert_array_equal(u, params["u"])


def test_the_same_words_in_another_order_get_the_same_score_whatever_the_parameters(data):
    ids, mask = data.encode(["the music is lovely but the plot is dull", "the plot is dull but the music is lovely"])
    for seed in range(3):
        s, _ = clf.classifier_forward(random_params(V=len(data.vocab), D=8, H=8, seed=seed), ids, mask)
        assert s[0, 0] == pytest.approx(s[0, 1], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("activation", sorted(SCALAR))
@pytest.mark.parametrize("loss", ["bce", "linear"])
def test_classifier_backward_matches_central_differences_for_every_key(activation, loss):
    params = random_params(seed=7)
    rng = np.random.default_rng(8)
    y = np.array([[1.0, 0.0, 0.0, 1.0]])
    R = rng.normal(size=(1, 4))

    def J(p):
        s = clf.classifier_forward(p, IDS, MASK, activation)[0]
        return binary_cross_entropy(s, y) if loss == "bce" else float(np.sum(R * s))

    s, cache = clf.classifier_forward(params, IDS, MASK, activation)
    ds = binary_cross_entropy_grad(s, y) if loss == "bce" else R
    grads = clf.classifier_backward(ds, cache)  # the activation comes from the cache
    assert sorted(grads) == sorted(clf.KEYS) and all(grads[k].shape == params[k].shape for k in clf.KEYS)
    for key in clf.KEYS:
        report = gradcheck(lambda q: J({**params, key: q}), params[key], grads[key])
        assert report.passed, f"{activation} d{key}: {report}"


def test_the_backward_pass_takes_the_activation_from_the_cache():
    """Forward with relu, backward without being told: the gradient is relu's, not tanh's."""
    params = random_params(seed=12)
    s, cache = clf.classifier_forward(params, IDS, MASK, "relu")
    grads = clf.classifier_backward(np.ones_like(s), cache)
    report = gradcheck(lambda q: float(np.sum(clf.classifier_forward({**params, "W": q}, IDS, MASK, "relu")[0])),
                       params["W"], grads["W"])
    assert report.passed, report


def test_a_boolean_mask_is_a_mask():
    params = random_params(seed=13)
    s_float, cache_float = clf.classifier_forward(params, IDS, MASK)
    s_bool, cache_bool = clf.classifier_forward(params, IDS, MASK > 0)
    np.testing.assert_array_equal(s_bool, s_float)
    x_float, _ = clf.average_pool_forward(params["E"], IDS, MASK)
    np.testing.assert_array_equal(clf.average_pool_forward(params["E"], IDS, MASK > 0)[0], x_float)
    ds = np.ones_like(s_float)
    for key, grad in clf.classifier_backward(ds, cache_bool).items():
        np.testing.assert_array_equal(grad, clf.classifier_backward(ds, cache_float)[key])
    np.testing.assert_array_equal(clf.predict_proba(params, IDS, MASK > 0), clf.predict_proba(params, IDS, MASK))


def test_classifier_backward_leaves_its_inputs_alone():
    params = random_params(seed=9)
    before = {k: v.copy() for k, v in params.items()}
    s, cache = clf.classifier_forward(params, IDS, MASK)
    ds = np.ones_like(s)
    clf.classifier_backward(ds, cache)
    assert all(np.array_equal(params[k], before[k]) for k in params) and np.all(ds == 1)


def test_classifier_errors():
    params = random_params(seed=0)
    with pytest.raises(ValueError, match=r"^classifier_forward: argument 'params' is missing key\(s\) \['u'\]"):
        clf.classifier_forward({k: v for k, v in params.items() if k != "u"}, IDS, MASK)
    with pytest.raises(ValueError, match=r"^classifier_forward: argument 'params\['u'\]' must have shape \(4, 1\); "
                                         r"received shape \(1, 4\)$"):
        clf.classifier_forward({**params, "u": params["u"].T}, IDS, MASK)
    _, cache = clf.classifier_forward(params, IDS, MASK)
    with pytest.raises(ValueError, match=r"^classifier_backward: argument 'ds' must have shape \(1, 4\); "
                                         r"received shape \(4, 1\)$"):
        clf.classifier_backward(np.zeros((4, 1)), cache)


def test_accuracy_counts_the_right_predictions():
    params = random_params(seed=10)
    s = scores_by_loops(params, IDS, MASK)[0]
    predicted = (s > 0).astype(float)
    assert np.all(np.abs(s) > 1e-6)
    for right in range(5):  # the first `right` labels agree with the prediction, the others do not
        y = np.where(np.arange(4) < right, predicted, 1 - predicted)[None, :]
        split = Split(IDS, MASK, y, np.array(["plain"] * 4), ("a", "b", "c", "d"))
        assert clf.accuracy(params, split) == right / 4


# ---------------------------------------------------------------- training


def test_train_classifier_reaches_the_target_and_keeps_the_initial_params(trained, initial, data):
    params, history, before = trained
    assert all(np.array_equal(initial[k], before[k]) for k in clf.KEYS), "params passed in were modified"
    assert sorted(params) == sorted(clf.KEYS) and all(params[k].shape == initial[k].shape for k in clf.KEYS)
    dev = float(np.mean((scores_by_formula(params, data.dev.ids, data.dev.mask) > 0) == (data.dev.y[0] == 1)))
    assert dev >= 0.85
    assert history["dev_acc"][-1] == pytest.approx(dev, abs=1e-12)


def test_train_classifier_history(trained, data):
    params, history, _ = trained
    assert sorted(history) == ["dev_acc", "dev_loss", "loss", "train_acc"]
    assert all(len(v) == 5 and all(isinstance(e, float) for e in v) for v in history.values())
    train = float(np.mean((scores_by_formula(params, data.train.ids, data.train.mask) > 0) == (data.train.y[0] == 1)))
    assert history["train_acc"][-1] == pytest.approx(train, abs=1e-12)
    loss = history["loss"]
    assert loss[0] < math.log(2) + 0.05 and loss[-1] < 0.5 * loss[0]  # from a coin flip to well below it
    assert all(0 < v < 1 for v in history["train_acc"] + history["dev_acc"])
    s_dev = scores_by_formula(params, data.dev.ids, data.dev.mask)
    dev_loss = float(np.mean(np.logaddexp(0, s_dev) - data.dev.y[0] * s_dev))  # the loss, written out
    assert history["dev_loss"][-1] == pytest.approx(dev_loss, rel=1e-9)


def test_train_classifier_is_deterministic_for_a_seed(data):
    p0 = clf.init_classifier(len(data.vocab), seed=3)
    a, ha = clf.train_classifier(p0, data, lr=1.0, epochs=1, batch_size=64, seed=5)
    b, hb = clf.train_classifier(p0, data, lr=1.0, epochs=1, batch_size=64, seed=5)
    c, _ = clf.train_classifier(p0, data, lr=1.0, epochs=1, batch_size=64, seed=6)
    assert all(np.array_equal(a[k], b[k]) for k in clf.KEYS) and ha == hb
    assert not np.array_equal(a["W"], c["W"])  # another order of the minibatches


@pytest.mark.parametrize("seed", [0, 1])
def test_averaging_gets_plain_sentences_right_and_contrast_at_chance(seed, data, trained):
    """The notebook's claim: contrast sentences ("lovely ... but ... dull") contain the same words in both
    orders, so after averaging no parameters can tell which opinion comes last."""
    params = trained[0] if seed == 0 else clf.train_classifier(clf.init_classifier(len(data.vocab), seed=seed),
                                                               data, lr=1.0, epochs=5, batch_size=16, seed=seed)[0]
    by_kind = correct_by_kind(params, data.dev)
    assert by_kind["plain"] > 0.9 and by_kind["intensified"] > 0.9
    assert 0.35 <= by_kind["contrast"] <= 0.65


def test_negation_needs_the_hidden_nonlinearity(data, trained):
    """The notebook's other claim: with f = identity the score is linear in the average, so "not" cannot flip
    both "good" and "bad" (worse than chance on negated sentences); the tanh layer learns it."""
    linear, _ = clf.train_classifier(clf.init_classifier(len(data.vocab)), data, lr=1.0, epochs=5, batch_size=16,
                                     activation="identity")
    assert correct_by_kind(linear, data.dev, "identity")["negated"] < 0.5
    assert correct_by_kind(trained[0], data.dev)["negated"] > 0.9
