"""helpers.rnn_lm: the loss against a loop over streams and steps, every gradient (a word read several
times included) against central differences, for the RNN and for another cell given through the cell
interface, float32 kept; truncated-BPTT windows that reassemble the stream with no target skipped or
repeated; the stream and per-token log-probabilities aligned with the n-gram models; evaluation, the
interpolation with another model, and training that lowers the dev perplexity; argument errors."""
import dataclasses
import math
import warnings

import numpy as np
import pytest

from helpers import rnn, rnn_lm
from helpers.data.corpus import load_corpus
from helpers.gradcheck import gradcheck
from helpers.ngram import NGramModel

V, D, H = 7, 3, 4


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def random_params(seed=0, dtype=np.float64):
    params = rnn_lm.init_lm(V, D, H, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 100)
    params["E"] = rng.normal(size=(D, V)).astype(dtype)
    params["U"] = rng.normal(size=(V, H)).astype(dtype)
    params["b"], params["b2"] = (rng.normal(scale=0.5, size=(n, 1)).astype(dtype) for n in (H, V))
    return params


# (T + 1, N) = (5, 3): word 4 read three times (streams 0 and 2), word 0 never read, word 6 only a target
IDS = np.array([[4, 1, 2], [3, 4, 5], [1, 1, 4], [5, 3, 2], [6, 2, 6]])


def loss_by_loops(params, ids, h0, f=math.tanh):
    """J = mean over streams n and steps t of -log softmax(U h_t + b2)[ids[t + 1, n]], h_t by the recurrence."""
    E, Wx, Wh, b, U, b2 = (params[k] for k in ("E", "Wx", "Wh", "b", "U", "b2"))
    nll, last = [], np.zeros_like(h0)
    for n in range(ids.shape[1]):
        h = list(h0[:, n])
        for t in range(ids.shape[0] - 1):
            x = E[:, ids[t, n]]
            h = [f(math.fsum([Wh[i, j] * h[j] for j in range(H)] + [Wx[i, k] * x[k] for k in range(D)]) + b[i, 0])
                 for i in range(H)]
            scores = [math.fsum(U[v, i] * h[i] for i in range(H)) + b2[v, 0] for v in range(V)]
            m = max(scores)
            log_z = m + math.log(math.fsum(math.exp(s - m) for s in scores))
            nll.append(log_z - scores[ids[t + 1, n]])
        last[:, n] = h
    return math.fsum(nll) / len(nll), last


# ---------------------------------------------------------------- init


def test_init_shapes_dtypes_and_unigram_bias():
    p = rnn_lm.init_lm(50, 8, 16, seed=1, dtype=np.float32)
    assert {k: v.shape for k, v in p.items()} == {"E": (8, 50), "Wx": (16, 8), "Wh": (16, 16), "b": (16, 1),
                                                  "U": (50, 16), "b2": (50, 1)}
    assert all(v.dtype == np.float32 for v in p.values()) and not p["b2"].any()
    again = rnn_lm.init_lm(50, 8, 16, seed=1, dtype=np.float32)
    assert all(np.array_equal(p[k], again[k]) for k in p)
    counts = np.arange(50)
    b2 = rnn_lm.init_lm(50, 8, 16, counts=counts)["b2"][:, 0]
    np.testing.assert_allclose(np.exp(b2), (counts + 1) / (counts.sum() + 50), rtol=1e-12)


# ---------------------------------------------------------------- loss and gradients


@pytest.mark.parametrize("ids", [IDS, IDS[:2], IDS[:, :1]])
def test_loss_against_a_loop_over_streams_and_steps(ids):
    params = random_params()
    h0 = np.random.default_rng(1).normal(size=(H, ids.shape[1]))
    J, grads, h_last = rnn_lm.rnn_lm_loss(params, ids, h0)
    expected_J, expected_last = loss_by_loops(params, ids, h0)
    assert isinstance(J, float) and J == pytest.approx(expected_J, rel=1e-12)
    np.testing.assert_allclose(h_last, expected_last, rtol=1e-12)
    assert set(grads) == set(params) and all(grads[k].shape == params[k].shape for k in params)


@pytest.mark.parametrize("ids", [IDS, IDS[:2], IDS[:, 1:]])
def test_gradients_against_central_differences(ids):
    params = random_params(seed=2)
    h0 = np.random.default_rng(2).normal(size=(H, ids.shape[1]))
    J, grads, _ = rnn_lm.rnn_lm_loss(params, ids, h0)
    report = gradcheck(lambda p: rnn_lm.rnn_lm_loss(p, ids, h0)[0], {k: v.copy() for k, v in params.items()}, grads)
    assert report.passed, str(report)
    unread = np.setdiff1d(np.arange(V), ids[:-1])                    # words never read get no dE
    assert not grads["E"][:, unread].any()


def test_a_word_read_several_times_gets_the_sum_of_its_gradients():
    params = random_params(seed=3)
    ids = np.array([[4, 4], [4, 2], [1, 3]])                          # word 4 read at (0, 0), (0, 1), (1, 0)
    h0 = np.zeros((H, 2))
    _, grads, _ = rnn_lm.rnn_lm_loss(params, ids, h0)

    def J_of_x(x3):                                                   # the three readings of word 4 as separate vectors
        E = params["E"]
        cols = {(0, 0): x3[:, 0], (0, 1): x3[:, 1], (1, 0): x3[:, 2]}
        total = 0.0
        for n in range(2):
            h = h0[:, n]
            for t in range(2):
                x = cols.get((t, n), E[:, ids[t, n]])
                h = np.tanh(params["Wh"] @ h + params["Wx"] @ x + params["b"][:, 0])
                s = params["U"] @ h + params["b2"][:, 0]
                total += np.log(np.exp(s - s.max()).sum()) + s.max() - s[ids[t + 1, n]]
        return total / 4

    x3 = np.repeat(params["E"][:, [4]], 3, axis=1)
    numeric = np.zeros_like(x3)
    for i in np.ndindex(x3.shape):
        plus, minus = x3.copy(), x3.copy()
        plus[i] += 1e-6
        minus[i] -= 1e-6
        numeric[i] = (J_of_x(plus) - J_of_x(minus)) / 2e-6
    np.testing.assert_allclose(grads["E"][:, 4], numeric.sum(axis=1), rtol=1e-6)


def test_another_cell_through_the_interface():
    """lm_loss knows the cell only through helpers.cells' interface: a ReLU RNN given as a Cell."""
    relu_cell = dataclasses.replace(rnn.CELL, name="relu-rnn",
                                    forward=lambda xs, h0, p: rnn.rnn_forward(xs, h0, p, "relu"))
    params = random_params(seed=4)
    h0 = np.abs(np.random.default_rng(4).normal(size=(H, 3)))
    J, grads, h_last = rnn_lm.lm_loss(params, IDS, h0, cell=relu_cell)
    expected_J, expected_last = loss_by_loops(params, IDS, h0, f=lambda z: max(z, 0.0))
    assert J == pytest.approx(expected_J, rel=1e-12)
    np.testing.assert_allclose(h_last, expected_last, rtol=1e-12)
    report = gradcheck(lambda p: rnn_lm.lm_loss(p, IDS, h0, relu_cell)[0], {k: v.copy() for k, v in params.items()},
                       grads)
    assert report.passed, str(report)
    same = rnn_lm.lm_loss(params, IDS, h0, "rnn")[0]
    assert same == rnn_lm.rnn_lm_loss(params, IDS, h0)[0]


def test_float32_stays_float32():
    params = random_params(dtype=np.float32)
    J, grads, h_last = rnn_lm.rnn_lm_loss(params, IDS, np.zeros((H, 3), np.float32))
    assert all(g.dtype == np.float32 for g in grads.values()) and h_last.dtype == np.float32
    J64 = rnn_lm.rnn_lm_loss({k: v.astype(np.float64) for k, v in params.items()}, IDS, np.zeros((H, 3)))[0]
    assert J == pytest.approx(J64, rel=1e-5)


# ---------------------------------------------------------------- streams and windows


@pytest.mark.parametrize("L, N, T", [(100, 3, 4), (101, 1, 10), (64, 8, 7), (17, 2, 7), (50, 5, 9)])
def test_windows_reassemble_each_stream_with_no_target_skipped_or_repeated(L, N, T):
    stream = np.arange(L) + 1000                                       # every id different: positions are visible
    windows = rnn_lm.tbptt_batches(stream, N, T)
    M = L // N
    K = (M - 1) // T
    assert windows.shape == (K, T + 1, N) and K >= 1
    for n in range(N):
        piece = np.concatenate([windows[0, :, n]] + [windows[k, 1:, n] for k in range(1, K)])
        np.testing.assert_array_equal(piece, stream[n * M:n * M + K * T + 1])
        for k in range(K - 1):                                         # seams: the last target is the next first input
            assert windows[k, -1, n] == windows[k + 1, 0, n]
    targets = windows[:, 1:, :].ravel()
    assert len(np.unique(targets)) == targets.size == N * K * T     # no target twice
    inputs = windows[:, :-1, :]
    assert np.array_equal(np.sort(inputs.ravel()), np.sort(targets - 1))   # every target read after its predecessor


def test_stream_of_a_split_predicts_what_the_ngram_models_predict(corpus):
    for split in ("dev", "test"):
        stream = rnn_lm.lm_stream(corpus, split)
        assert stream.dtype == np.int64 and len(stream) == corpus.n_tokens(split) + 1
        assert stream[0] == 2 and 1 not in stream                      # read after </s>; <s> never occurs
        for n in (1, 2, 3):
            np.testing.assert_array_equal(stream[1:], NGramModel(corpus, n).grams(corpus, split)[:, -1])
    order = np.random.default_rng(0).permutation(len(corpus.dev))
    expected = [2] + [w for i in order for w in corpus.dev[i].tolist() + [2]]
    assert rnn_lm.lm_stream(corpus, "dev", order).tolist() == expected


def logprobs_by_loops(params, stream):
    E, Wx, Wh, b, U, b2 = (params[k] for k in ("E", "Wx", "Wh", "b", "U", "b2"))
    h, out = np.zeros(H), []
    for t in range(len(stream) - 1):
        h = np.tanh(Wh @ h + Wx @ E[:, stream[t]] + b[:, 0])
        s = U @ h + b2[:, 0]
        out.append(s[stream[t + 1]] - s.max() - math.log(np.exp(s - s.max()).sum()))
    return np.array(out)


@pytest.mark.parametrize("chunk", [1, 4, 512])
def test_stream_logprobs_against_a_loop_in_any_chunk_size(chunk):
    params = random_params(seed=5)
    stream = np.random.default_rng(5).integers(0, V, size=23)
    np.testing.assert_allclose(rnn_lm.stream_logprobs(params, stream, chunk=chunk), logprobs_by_loops(params, stream),
                               rtol=1e-11)


def test_evaluation_of_a_uniform_model_is_log_V(corpus):
    params = rnn_lm.init_lm(corpus.V, 4, 5)
    params["U"][:] = 0.0                                               # every score 0: y_hat uniform over V words
    logp = rnn_lm.token_logprobs(params, corpus, "dev")
    assert logp.shape == (corpus.n_tokens("dev"),)
    np.testing.assert_allclose(logp, -math.log(corpus.V), rtol=1e-12)
    assert rnn_lm.evaluate_lm(params, corpus, "dev") == pytest.approx(math.log(corpus.V), rel=1e-12)


def test_mixing_two_models():
    rng = np.random.default_rng(6)
    pa, pb = rng.uniform(0.01, 1, size=50), rng.uniform(0.01, 1, size=50)
    for w in (0.0, 0.3, 1.0):
        np.testing.assert_allclose(rnn_lm.mix_logprobs(np.log(pa), np.log(pb), w), np.log(w * pa + (1 - w) * pb),
                                   rtol=1e-12)
    assert np.all(np.isfinite(rnn_lm.mix_logprobs(np.array([-2000.0]), np.array([-1.0]), 0.5)))
    weight, ppl = rnn_lm.tune_mix_weight(np.log(pa), np.log(pb), steps=10)
    brute = [math.exp(-np.mean([math.log(w * a + (1 - w) * b) for a, b in zip(pa, pb)])) for w in np.arange(11) / 10]
    np.testing.assert_allclose(ppl, brute, rtol=1e-12)
    assert weight == pytest.approx(np.argmin(brute) / 10)


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def trained(corpus):
    return rnn_lm.train_lm(corpus, D=8, H=16, T=8, N=16, epochs=3, lr=2.0, progress=False)


def test_training_lowers_the_dev_perplexity(corpus, trained):
    params, history = trained
    steps = 3 * len(rnn_lm.tbptt_batches(rnn_lm.lm_stream(corpus, "train"), 16, 8))
    assert len(history["loss"]) == len(history["grad_norm"]) == steps
    assert len(history["dev_ppl"]) == len(history["train_nll"]) == len(history["lr"]) == len(history["seconds"]) == 3
    assert history["diverged"] is None and history["best_epoch"] == 2
    counts = np.bincount(rnn_lm.lm_stream(corpus, "train")[1:], minlength=corpus.V)
    unigram = math.exp(rnn_lm.evaluate_lm(rnn_lm.init_lm(corpus.V, 8, 16, counts=counts), corpus, "dev"))
    assert history["dev_ppl"][2] < history["dev_ppl"][1] < history["dev_ppl"][0] < unigram
    assert history["train_nll"][2] < history["train_nll"][0]
    assert math.exp(rnn_lm.evaluate_lm(params, corpus, "dev")) == pytest.approx(history["dev_ppl"][2], rel=1e-9)
    assert all(v.dtype == np.float32 for v in params.values())


def test_a_diverging_run_stops_without_warnings(corpus):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params, history = rnn_lm.train_lm(corpus, D=4, H=8, T=8, N=8, epochs=2, lr=1e300, clip=None, progress=False,
                                          max_steps=200)   # float32 parameters overflow at the first update
    step = history["diverged"]
    assert step is not None and len(history["loss"]) == step + 1
    assert not (math.isfinite(history["loss"][step]) and math.isfinite(history["grad_norm"][step]))
    assert history["dev_ppl"] == [] and history["best_epoch"] is None


def test_clipping_choices_and_max_steps(corpus):
    runs = {clip: rnn_lm.train_lm(corpus, D=4, H=8, T=8, N=8, epochs=1, lr=1.0, clip=clip, progress=False,
                                  max_steps=5)[1] for clip in (None, ("norm", 0.05), ("value", 1e-4))}
    assert all(len(h["loss"]) == 5 for h in runs.values())
    assert runs[None]["loss"][0] == runs[("norm", 0.05)]["loss"][0] == runs[("value", 1e-4)]["loss"][0]
    assert len({h["loss"][-1] for h in runs.values()}) == 3            # the clipped steps differ


# ---------------------------------------------------------------- argument errors


@pytest.mark.parametrize("call, error, message", [
    (lambda p: rnn_lm.rnn_lm_loss(p, IDS.astype(float), np.zeros((H, 3))), ValueError,
     r"^rnn_lm_loss: argument 'ids' must be an integer array of shape \(T \+ 1, N\)"),
    (lambda p: rnn_lm.rnn_lm_loss(p, IDS[:1], np.zeros((H, 3))), ValueError,
     r"^rnn_lm_loss: argument 'ids' must be an integer array of shape \(T \+ 1, N\) with T >= 1"),
    (lambda p: rnn_lm.rnn_lm_loss(p, IDS + 3, np.zeros((H, 3))), ValueError,
     r"^rnn_lm_loss: argument 'ids' must hold word ids in \[0, 7\); received ids from 4 to 9"),
    (lambda p: rnn_lm.rnn_lm_loss({k: v for k, v in p.items() if k != "U"}, IDS, np.zeros((H, 3))), ValueError,
     r"^rnn_lm_loss: argument 'params' is missing key\(s\) \['U'\]"),
    (lambda p: rnn_lm.lm_loss(p, IDS, np.zeros((H, 3)), cell="transformer"), ValueError,
     r"^lm_loss: argument 'cell' must be one of \['rnn', 'lstm', 'gru'\]"),
    (lambda p: rnn_lm.rnn_lm_loss({**p, "b2": np.zeros((V + 1, 1))}, IDS, np.zeros((H, 3))), ValueError,
     r"^rnn_lm_loss: argument 'params\['b2'\]' must have shape \(7, 1\); received shape \(8, 1\)"),
    (lambda p: rnn_lm.tbptt_batches(np.arange(10), 2, 5), ValueError,
     r"^tbptt_batches: argument 'stream' is too short for N = 2 streams of T \+ 1 = 6 ids; received 10 ids"),
    (lambda p: rnn_lm.tbptt_batches(np.arange(10.0), 2, 2), ValueError,
     r"^tbptt_batches: argument 'stream' must be a 1-D integer array"),
    (lambda p: rnn_lm.tbptt_batches(np.arange(10), 0, 2), ValueError,
     r"^tbptt_batches: argument 'N' must be a positive integer; received 0"),
    (lambda p: rnn_lm.init_lm(V, D, H, counts=np.ones(V - 1)), ValueError,
     r"^init_lm: argument 'counts' must be 7 non-negative word counts"),
    (lambda p: rnn_lm.mix_logprobs(np.zeros(3), np.zeros(3), 1.5), ValueError,
     r"^mix_logprobs: argument 'weight' must be a number in \[0, 1\]; received 1.5"),
    (lambda p: rnn_lm.stream_logprobs(p, np.array([3]), "rnn"), ValueError,
     r"^stream_logprobs: argument 'stream' must be an integer array of shape \(L,\) with L >= 2"),
])
def test_argument_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(random_params())


@pytest.mark.parametrize("kwargs, message", [
    ({"clip": ("norm",)}, r"^train_lm: argument 'clip' must be None, \('norm', max_norm\), \('value', value\) or a function"),
    ({"clip": ("norm", -1.0)}, r"^train_lm: argument 'clip' must be a positive finite number; received -1.0"),
    ({"epochs": 0}, r"^train_lm: argument 'epochs' must be a positive integer; received 0"),
    ({"lr": float("nan")}, r"^train_lm: argument 'lr' must be a positive finite number; received nan"),
    ({"min_gain": 1.0}, r"^train_lm: argument 'min_gain' must be a number in \[0, 1\); received 1.0"),
    ({"cell": "cnn"}, r"^train_lm: argument 'cell' must be one of"),
])
def test_train_lm_checks_its_arguments(corpus, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rnn_lm.train_lm(corpus, **{"progress": False, **kwargs})


def test_sequence_scores_against_a_loop():
    params = random_params(seed=7)
    inputs = np.random.default_rng(7).integers(0, V, size=(4, 3))
    h0 = np.random.default_rng(8).normal(size=(H, 3))
    scores, h_last = rnn_lm.sequence_scores(params, inputs, h0)
    assert scores.shape == (4, V, 3)
    for n in range(3):
        h = h0[:, n]
        for t in range(4):
            h = np.tanh(params["Wh"] @ h + params["Wx"] @ params["E"][:, inputs[t, n]] + params["b"][:, 0])
            np.testing.assert_allclose(scores[t, :, n], params["U"] @ h + params["b2"][:, 0], rtol=1e-12)
        np.testing.assert_allclose(h_last[:, n], h, rtol=1e-12)
