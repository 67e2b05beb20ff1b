"""helpers.window_lm: the forward pass against a loop that stacks the word vectors, every gradient
against central differences (a word twice in a window), the windows of a split, evaluation as the
definition of the mean negative log-likelihood, training that lowers the dev perplexity, the
next-word distribution and nearest neighbours by brute-force cosine."""
import math

import numpy as np
import pytest

from helpers import window_lm as wl
from helpers.data.corpus import load_corpus
from helpers.gradcheck import gradcheck
from helpers.losses import softmax_cross_entropy

BOS, EOS = 1, 2


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def random_params(V=9, window=3, D=4, H=5, seed=0):
    params = wl.init_window_lm(V, window, D, H, seed=seed)
    rng = np.random.default_rng(seed + 100)
    params["E"] = rng.normal(size=(D, V))
    params["b1"], params["b2"] = rng.normal(scale=0.5, size=(H, 1)), rng.normal(scale=0.5, size=(V, 1))
    return params


# contexts (window, N) = (3, 5): word 4 twice in window 0, word 2 three times in window 3, word 7 in windows 1, 2, 4
CONTEXTS = np.array([[4, 1, 7], [1, 1, 7], [0, 7, 8], [2, 2, 2], [7, 3, 5]]).T.copy()


def forward_by_loops(params, contexts):
    """scores (V, N), e, h: e_n = [E[:, c_1n]; ...; E[:, c_kn]] concatenated, one window at a time."""
    E, W, b1, U, b2 = (params[k] for k in wl.KEYS)
    es, hs, scores = [], [], []
    for n in range(contexts.shape[1]):
        e = np.concatenate([E[:, contexts[k, n]] for k in range(contexts.shape[0])])
        h = np.array([math.tanh(math.fsum(W[i, j] * e[j] for j in range(len(e))) + b1[i, 0])
                      for i in range(W.shape[0])])
        scores.append([math.fsum(U[v, i] * h[i] for i in range(len(h))) + b2[v, 0] for v in range(U.shape[0])])
        es.append(e)
        hs.append(h)
    return np.array(scores).T, np.array(es).T, np.array(hs).T


def log_softmax_by_loops(column):
    m = max(column)
    log_z = m + math.log(math.fsum(math.exp(s - m) for s in column))
    return [s - log_z for s in column]


# ---------------------------------------------------------------- init and forward


def test_init_shapes_scales_and_determinism():
    p = wl.init_window_lm(V=50, window=4, D=8, H=16, seed=3)
    assert {k: p[k].shape for k in wl.KEYS} == {"E": (8, 50), "W": (16, 32), "b1": (16, 1), "U": (50, 16),
                                                 "b2": (50, 1)}
    assert not p["b1"].any() and not p["b2"].any()
    again, other = wl.init_window_lm(50, 4, 8, 16, seed=3), wl.init_window_lm(50, 4, 8, 16, seed=4)
    assert all(np.array_equal(p[k], again[k]) for k in wl.KEYS)
    assert not np.array_equal(p["E"], other["E"])
    big = wl.init_window_lm(V=2000, window=4, D=50, H=200, seed=0)
    assert big["E"].std() == pytest.approx(0.1, rel=0.02)
    assert big["W"].std() == pytest.approx(200 ** -0.5, rel=0.02)
    assert big["U"].std() == pytest.approx(200 ** -0.5, rel=0.02)


@pytest.mark.parametrize("window, contexts", [(3, CONTEXTS), (1, CONTEXTS[:1]), (2, CONTEXTS[1:])])
def test_forward_against_a_loop_stacking_the_word_vectors(window, contexts):
    params = random_params(window=window)
    scores, (cached_contexts, e, h, cached_params) = wl.window_lm_forward(params, contexts)
    expected_scores, expected_e, expected_h = forward_by_loops(params, contexts)
    assert scores.shape == (9, contexts.shape[1]) and e.shape == (window * 4, contexts.shape[1])
    np.testing.assert_allclose(e, expected_e, rtol=0, atol=0)
    np.testing.assert_allclose(h, expected_h, rtol=1e-12)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-12)
    assert np.array_equal(cached_contexts, contexts) and cached_params is params


@pytest.mark.parametrize("bad", [CONTEXTS.astype(float), CONTEXTS[0], CONTEXTS[None]])
def test_forward_rejects_contexts_that_are_not_a_2d_integer_array(bad):
    with pytest.raises(TypeError, match=r"^window_lm_forward: argument 'contexts' must be a 2-D integer array "
                                        rf"\(n-1, N\); received {bad.dtype} array of shape {re_shape(bad.shape)}$"):
        wl.window_lm_forward(random_params(), bad)


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_forward_names_missing_parameters():
    params = random_params()
    del params["b1"]
    with pytest.raises(ValueError, match=r"^window_lm_forward: argument 'params' is missing key\(s\) \['b1'\]"):
        wl.window_lm_forward(params, CONTEXTS)


# ---------------------------------------------------------------- backward


@pytest.mark.parametrize("window, contexts", [(3, CONTEXTS), (1, CONTEXTS[:1]), (2, CONTEXTS[1:])])
def test_backward_against_central_differences(window, contexts):
    params = random_params(window=window, seed=window)
    targets = np.array([2, 0, 8, 2, 5])

    def J(p):
        return softmax_cross_entropy(wl.window_lm_forward(p, contexts)[0], targets)[0]

    scores, cache = wl.window_lm_forward(params, contexts)
    grads = wl.window_lm_backward(softmax_cross_entropy(scores, targets)[1], cache)
    assert set(grads) == set(wl.KEYS) and all(grads[k].shape == params[k].shape for k in wl.KEYS)
    report = gradcheck(J, {k: v.copy() for k, v in params.items()}, grads, tol=1e-6)
    assert report.passed, str(report)
    # words in no window get no gradient
    unused = np.setdiff1d(np.arange(9), contexts)
    assert not grads["E"][:, unused].any()


def test_backward_accumulates_a_word_repeated_in_a_window():
    params = random_params()
    contexts = np.array([[4], [4], [6]])
    scores, cache = wl.window_lm_forward(params, contexts)
    dscores = np.random.default_rng(0).normal(size=scores.shape)
    grads = wl.window_lm_backward(dscores, cache)
    dz = (params["U"].T @ dscores) * (1 - cache[2] ** 2)
    de = params["W"].T @ dz  # (3 D, 1): the slots of words 4, 4, 6
    np.testing.assert_allclose(grads["E"][:, 4], de[0:4, 0] + de[4:8, 0], rtol=1e-12)
    np.testing.assert_allclose(grads["E"][:, 6], de[8:12, 0], rtol=1e-12)


# ---------------------------------------------------------------- windows, evaluation, training


@pytest.mark.parametrize("window", [1, 3, 4])
def test_windows_one_per_predicted_token_padded_with_start_tokens(corpus, window):
    contexts, targets = wl.windows(corpus, "dev", window)
    expected_contexts, expected_targets = [], []
    for s in corpus.dev:
        padded = [BOS] * window + s.tolist() + [EOS]
        for i in range(window, len(padded)):
            expected_contexts.append(padded[i - window:i])
            expected_targets.append(padded[i])
    assert contexts.shape == (window, corpus.n_tokens("dev")) and targets.shape == (corpus.n_tokens("dev"),)
    assert contexts.T.tolist() == expected_contexts and targets.tolist() == expected_targets
    assert contexts.flags.c_contiguous


@pytest.mark.parametrize("batch_size", [7, 2048])
def test_evaluate_is_the_mean_negative_log_likelihood(batch_size):
    params = random_params(window=3)
    rng = np.random.default_rng(1)
    contexts, targets = rng.integers(0, 9, size=(3, 30)), rng.integers(0, 9, size=30)
    scores = forward_by_loops(params, contexts)[0]
    nll = [-log_softmax_by_loops(list(scores[:, n]))[targets[n]] for n in range(30)]
    assert wl.evaluate(params, contexts, targets, batch_size) == pytest.approx(math.fsum(nll) / 30, rel=1e-12)
    # perplexity exp(mean nll) is the inverse geometric mean of the target probabilities
    probs = [math.exp(-v) for v in nll]
    assert math.exp(wl.evaluate(params, contexts, targets, batch_size)) == pytest.approx(
        math.prod(probs) ** (-1 / 30), rel=1e-10)


@pytest.fixture(scope="module")
def trained(corpus):
    return wl.train_window_lm(corpus, window=3, D=8, H=16, epochs=2, batch_size=64, lr=1.0, seed=0, progress=False)


def test_training_lowers_the_dev_perplexity(corpus, trained):
    params, history = trained
    assert set(history) == {"train_nll", "dev_ppl", "best_epoch"} and len(history["train_nll"]) == len(history["dev_ppl"]) == 2
    initial = math.exp(wl.evaluate(wl.init_window_lm(corpus.V, 3, 8, 16, seed=0), *wl.windows(corpus, "dev", 3)))
    assert initial == pytest.approx(corpus.V, rel=0.05)  # small initial weights: nearly uniform
    assert history["dev_ppl"][1] < history["dev_ppl"][0] < 0.5 * initial
    assert history["train_nll"][1] < history["train_nll"][0]
    assert history["dev_ppl"][-1] == pytest.approx(math.exp(wl.evaluate(params, *wl.windows(corpus, "dev", 3))))
    assert {k: v.shape for k, v in params.items()} == {"E": (8, corpus.V), "W": (16, 24), "b1": (16, 1),
                                                         "U": (corpus.V, 16), "b2": (corpus.V, 1)}


def test_next_word_distribution_pads_with_start_tokens(corpus, trained):
    params, _ = trained
    for context in ([], [5], [7, 8, 9, 10, 11]):
        p = wl.next_word_distribution(params, context)
        padded = ([BOS] * 3 + context)[-3:]
        scores = wl.window_lm_forward(params, np.array(padded)[:, None])[0][:, 0]
        expected = np.exp(log_softmax_by_loops(list(scores)))
        assert p.shape == (corpus.V,) and math.isclose(p.sum(), 1.0, rel_tol=1e-12) and p.min() > 0
        np.testing.assert_allclose(p, expected, rtol=1e-10)


def test_nearest_neighbours_by_brute_force_cosine():
    E = np.random.default_rng(0).normal(size=(5, 40))
    E[:, 7] = 0.0  # a zero vector has similarity 0 to everything, and no nan
    for word in (0, 3, 7, 39):
        similarity = []
        for v in range(40):
            if v != word:
                norm = math.sqrt(sum(x * x for x in E[:, v])) * math.sqrt(sum(x * x for x in E[:, word]))
                similarity.append((-(float(E[:, v] @ E[:, word]) / norm if norm else 0.0), v))
        expected = [v for _, v in sorted(similarity)][:6]
        got = wl.nearest_neighbours(E, word, k=6)
        if word == 7:  # all ties: any 6 other words
            assert len(set(got.tolist())) == 6 and 7 not in got
        else:
            assert got.tolist() == expected
    scaled = E * np.arange(1, 41)  # cosine ignores the lengths of the vectors
    assert wl.nearest_neighbours(scaled, 3, k=6).tolist() == wl.nearest_neighbours(E, 3, k=6).tolist()


def test_training_returns_the_parameters_of_the_best_dev_epoch(corpus):
    """Early stopping: the parameters returned are those of the epoch with the lowest dev perplexity."""
    contexts, targets = wl.windows(corpus, "dev", 3)
    params, history = wl.train_window_lm(corpus, window=3, D=8, H=16, epochs=3, batch_size=64, lr=8.0, seed=0,
                                         progress=False)  # a rate high enough to overshoot after a while
    best = int(np.argmin(history["dev_ppl"]))
    assert history["best_epoch"] == best
    assert math.isclose(math.exp(wl.evaluate(params, contexts, targets)), history["dev_ppl"][best], rel_tol=1e-9)
