"""helpers.checks.lm (the checks of 03_ngram_vs_neural_lm): every check passes the reference with one
line and nothing on stderr, visible and hidden, for several seeds and the notebook's own; a realistic
mistake per exercise fails with its hint; generic failures; the progress table of 03."""

import numpy as np
import pytest

import helpers.checks as checks
from helpers import losses
from helpers import ngram as ng
from helpers import window_lm as wl
from helpers.activations import softmax
from helpers.checks import EXERCISES, CheckFailure, progress
from conftest import assert_fails_naming
from mistakes import MISTAKES as GRADING_MISTAKES

ASSIGNMENT = "03_ngram_vs_neural_lm"
# wrong answers here are built on the reference: the delegation detector has its own tests
pytestmark = pytest.mark.usefixtures("without_delegation_check")

REFERENCE = {name: e.reference for name, e in EXERCISES[ASSIGNMENT].items()}
CHECKS = {name: e.check for name, e in EXERCISES[ASSIGNMENT].items()}


# ---------------------------------------------------------------- the reference passes


# ---------------------------------------------------------------- realistic mistakes


def counts_reversed_powers(grams, V):
    return np.unique(grams @ (V ** np.arange(grams.shape[1], dtype=np.int64)), return_counts=True)


def counts_every_occurrence(grams, V):
    keys = np.sort(ng.encode_ngrams(grams, V))
    return keys, np.ones(len(keys), dtype=np.int64)


def windows(sentence, n, start=True, end=True):
    padded = np.concatenate([np.full(n - 1 if start else 0, 1), sentence, [2] if end else []]).astype(np.int64)
    return np.lib.stride_tricks.sliding_window_view(padded, n)


def logprob_without_end(prob, sentence, n):
    return float(np.sum(np.log(prob(windows(sentence, n, end=False)))))


def logprob_base_2(prob, sentence, n):
    return float(np.sum(np.log2(prob(windows(sentence, n)))))


def logprob_without_start_padding(prob, sentence, n):
    return float(np.sum(np.log(prob(windows(sentence, n, start=False)))))


def onehot(targets, C):
    y = np.zeros((C, len(targets)))
    y[targets, np.arange(len(targets))] = 1.0
    return y


def sce_without_onehot(scores, targets):
    p, N = softmax(scores), scores.shape[1]
    return float(-np.mean(np.log(p[targets, np.arange(N)]))), p / N


def sce_gradient_without_mean(scores, targets):
    p, N = softmax(scores), scores.shape[1]
    return float(-np.mean(np.log(p[targets, np.arange(N)]))), p - onehot(targets, scores.shape[0])


def sce_unstable(scores, targets):
    e = np.exp(scores)
    p, N = e / e.sum(axis=0), scores.shape[1]
    return float(-np.mean(np.log(p[targets, np.arange(N)]))), (p - onehot(targets, scores.shape[0])) / N


def sce_summed(scores, targets):
    J, d = losses.softmax_cross_entropy(scores, targets)
    return J * scores.shape[1], d


def forward_interleaved(params, contexts):
    e = params["E"][:, contexts].reshape(-1, contexts.shape[1])  # (D, n-1, N) reshaped without the transpose
    h = np.tanh(params["W"] @ e + params["b1"])
    return params["U"] @ h + params["b2"], (contexts, e, h, params)


def forward_returns_softmax(params, contexts):
    scores, cache = wl.window_lm_forward(params, contexts)
    return softmax(scores), cache


def backward_assigns_dE(dscores, cache):
    contexts, e, h, params = cache
    grads = wl.window_lm_backward(dscores, cache)
    dz = (params["U"].T @ dscores) * (1.0 - h ** 2)
    de = (params["W"].T @ dz).reshape(contexts.shape[0], -1, contexts.shape[1])
    dE = np.zeros_like(params["E"])
    for k in range(contexts.shape[0]):
        dE[:, contexts[k]] = de[k]
    return {**grads, "E": dE}


def backward_without_tanh_grad(dscores, cache):
    contexts, e, h, params = cache
    dz = params["U"].T @ dscores
    de = (params["W"].T @ dz).reshape(contexts.shape[0], -1, contexts.shape[1])
    dE = np.zeros_like(params["E"])
    np.add.at(dE.T, contexts, de.transpose(0, 2, 1))
    return {"E": dE, "W": dz @ e.T, "b1": dz.sum(axis=1, keepdims=True), "U": dscores @ h.T,
            "b2": dscores.sum(axis=1, keepdims=True)}


# mistakes found in a student run of 03 (issue 14): each must fail with a message that names it
def sce_rows(scores, targets):  # softmax over the last axis, as in PyTorch
    z = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    d = p.copy()
    d[targets, np.arange(scores.shape[1])] -= 1
    return float(-np.log(p[targets, np.arange(scores.shape[1])]).mean()), d / scores.shape[1]


def sce_mixed_axes(scores, targets):
    z = scores - scores.max(axis=0, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(log_p)
    d[targets, np.arange(scores.shape[1])] -= 1
    return float(-log_p[targets, np.arange(scores.shape[1])].mean()), d / scores.shape[1]


def sce_rows_and_columns_swapped(scores, targets):
    z = scores - scores.max(axis=0, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=0, keepdims=True))
    d = np.exp(log_p)
    d[targets, np.arange(scores.shape[1])] -= 1
    return float(-log_p[np.arange(scores.shape[1]), targets].mean()), d / scores.shape[1]


def sce_log10(scores, targets):
    J, d = losses.softmax_cross_entropy(scores, targets)
    return J / np.log(10), d


def sce_sign_flipped(scores, targets):
    J, d = losses.softmax_cross_entropy(scores, targets)
    return J, -d


def sce_global_max(scores, targets):
    z = scores - scores.max()
    log_p = z - np.log(np.exp(z).sum(axis=0, keepdims=True))
    d = np.exp(log_p)
    d[targets, np.arange(scores.shape[1])] -= 1
    return float(-log_p[targets, np.arange(scores.shape[1])].mean()), d / scores.shape[1]


def sentence_logprob_float_padding(prob, sentence, n):  # Exercise 4 warns against exactly this
    padded = np.concatenate([[1] * (n - 1), sentence, [2]])
    return float(np.sum(np.log(prob(np.lib.stride_tricks.sliding_window_view(padded, n)))))


def sentence_logprob_log10(prob, sentence, n):
    padded = np.concatenate([np.full(n - 1, 1), sentence, [2]])
    return float(np.sum(np.log10(prob(np.lib.stride_tricks.sliding_window_view(padded, n)))))


def backward_divided_by_n_twice(dscores, cache):
    N = cache[0].shape[1]
    return {k: v / N for k, v in wl.window_lm_backward(dscores, cache).items()}


STUDENT_RUN_MISTAKES = [
    ("add_k_prob", lambda c_hw, c_h, k, V: (c_hw + k) // (c_h + k * V),
     ["Hint: // is floor division, which rounds every probability down to 0: divide with /."]),
    ("perplexity", lambda lp, nt: float(-np.sum(lp) / np.sum(nt)),
     ["expected 54.59815, received 4", "Hint: that is the mean negative log-likelihood per token; perplexity is its "
                                       "exponential"]),
    ("sentence_logprob", sentence_logprob_float_padding,
     ["on case: sentence [4, 3] with a 1-gram model", "Hint: the padded sentence became a float array: [1] * (n - 1)",
      "np.concatenate([np.full(n - 1, 1), sentence, [2]])"]),
    ("sentence_logprob", sentence_logprob_log10, ["Hint: that is log base 10 (np.log10)"]),
    ("softmax_cross_entropy", sce_rows, ["J and dscores are both wrong",
                                         "Hint: the softmax was normalised over the wrong axis"]),
    ("softmax_cross_entropy", sce_mixed_axes, ["Hint: the probabilities behind your dscores do not sum to 1 down each "
                                               "column"]),
    ("softmax_cross_entropy", sce_rows_and_columns_swapped, ["log_probs[np.arange(N), targets] swaps rows and "
                                                             "columns", "log_probs[targets, np.arange(N)]"]),
    ("softmax_cross_entropy", sce_log10, ["Hint: that is log base 10 (np.log10)"]),
    ("softmax_cross_entropy", sce_sign_flipped, ["J is correct but dscores is not", "Hint: the sign of dscores is "
                                                                                    "flipped"]),
    ("softmax_cross_entropy", sce_global_max, ["on case: columns with very different maxima",
                                               "Hint: subtract each column's own maximum",
                                               "not the maximum of the whole matrix"]),
    ("window_lm_backward", backward_divided_by_n_twice, ["E, W, b1, U and b2 are all wrong",
                                                         "Hint: every gradient is N times too small"]),
]


MISTAKES = [
    # (exercise, wrong implementation, words the message must contain)
    ("ngram_counts", counts_reversed_powers, ["Hint: the first word must get the highest power: key = g_1 V^(n-1)"]),
    ("ngram_counts", counts_every_occurrence, ["keys returned by ngram_counts has shape (12,); expected shape",
                                               "Hint: return each distinct n-gram once, with its count"]),
    ("add_k_prob", lambda c_hw, c_h, k, V: (c_h + k) / (c_h + k * V),
     ["Hint: a context count was used in place of the n-gram count: the numerator is c(h, w) + k."]),
    ("add_k_prob", lambda c_hw, c_h, k, V: (c_hw + k) / c_h,
     ["on case: c(h,w) = [3, 0, 5]", "Hint: the denominator needs k for every one of the V_out possible next words"]),
    ("add_k_prob", lambda c_hw, c_h, k, V: (c_hw + k) / (c_h + k),
     ["Hint: the denominator needs k for every one of the V_out possible next words: c(h) + k V_out."]),
    ("interpolated_prob", lambda probs, lambdas: lambdas[::-1] @ probs,
     ["Hint: the weights are in the wrong order: lambdas[k] belongs to probs[k]"]),
    ("interpolated_prob", lambda probs, lambdas: probs.mean(axis=0),
     ["Hint: use the weights lambdas, not a plain mean."]),
    ("sentence_logprob", logprob_without_end, ["Hint: the end-of-sentence token </s> (id 2) is missing"]),
    ("sentence_logprob", logprob_base_2, ["Hint: that is log base 2; the course measures in nats: np.log."]),
    ("sentence_logprob", logprob_without_start_padding,
     ["on case: sentence [3, 4, 5] with a 3-gram model", "Hint: pad the sentence with n-1 start tokens <s> (id 1)"]),
    ("perplexity", lambda lp, nt: float(np.exp(-np.mean(np.asarray(lp) / np.asarray(nt)))),
     ["Hint: that averages per sentence; perplexity averages per token"]),
    ("perplexity", lambda lp, nt: float(np.mean(np.exp(-np.asarray(lp) / np.asarray(nt)))),
     ["Hint: that averages per sentence; perplexity averages per token"]),
    ("perplexity", lambda lp, nt: float(2 ** (-np.sum(lp) / np.sum(nt))),
     ["Hint: the log-probabilities are natural logs, so take exp, not 2 **."]),
    ("perplexity", lambda lp, nt: float(np.exp(np.sum(lp) / np.sum(nt))),
     ["Hint: the sign: perplexity = exp(minus the mean log-probability) > 1."]),
    ("unseen_share", lambda train, test: float(np.mean(~np.isin(np.unique(test), train))),
     ["expected 0.6, received 0.5", "Hint: count occurrences (tokens), not distinct n-grams (types)"]),
    ("softmax_cross_entropy", sce_without_onehot,
     ["J is correct but dscores is not", "Hint: the gradient is softmax minus one-hot"]),
    ("softmax_cross_entropy", sce_gradient_without_mean,
     ["Hint: J is a mean over the N examples, so dscores carries a factor 1/N."]),
    ("softmax_cross_entropy", sce_unstable, ["on case: large logits", "received nan", "Hint: nan: exp overflowed",
                                             "Subtract each column's own max"]),
    ("softmax_cross_entropy", sce_summed, ["dscores is correct but J is not",
                                           "Hint: J is the mean over the batch, not the sum."]),
    ("window_lm_forward", forward_interleaved,
     ["on case: V=9, window of 3 words", "Hint: e stacks whole word vectors: e = [e_1; e_2; ...]",
      "transpose to (w, D, N) before reshaping"]),
    ("window_lm_forward", forward_returns_softmax,
     ["are correct but scores is not", "Hint: return the scores (logits) U h + b2; the softmax belongs to the loss."]),
    ("window_lm_backward", backward_assigns_dE,
     ["W, b1, U, b2 are correct but E is not", "Hint: only dE is wrong", "accumulate with np.add.at, do not assign"]),
    ("window_lm_backward", backward_without_tanh_grad,
     ["U, b2 are correct but E, W, b1 are not", "Hint: dU is right, dW is not: dz = (U^T dscores) * (1 - h**2)"]),
]


@pytest.mark.parametrize("name, wrong, words", MISTAKES + STUDENT_RUN_MISTAKES,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MISTAKES + STUDENT_RUN_MISTAKES)])
@pytest.mark.parametrize("hidden", [False, True])
def test_a_realistic_mistake_fails_with_its_hint(name, wrong, words, hidden, capfd):
    assert_fails_naming(CHECKS[name], wrong, words, capfd, hidden=hidden)


def test_every_exercise_has_a_realistic_mistake():
    assert {name for name, _, _ in MISTAKES} == set(REFERENCE)


@pytest.mark.parametrize("mistake", sorted(GRADING_MISTAKES[ASSIGNMENT]))
def test_the_wrong_answers_of_the_grading_tests_fail_the_visible_check(mistake):
    grade_id, source, shown = GRADING_MISTAKES[ASSIGNMENT][mistake]
    ns = {"np": np}
    exec(source, ns)
    assert shown
    with pytest.raises(CheckFailure, match="Hint: "):
        CHECKS[grade_id](ns[grade_id])


# ---------------------------------------------------------------- generic failures


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("wrong, message", [
    (lambda params, contexts: wl.window_lm_forward(params, contexts)[0],
     "window_lm_forward must return (scores, cache); received ndarray"),
    (lambda params, contexts: (wl.window_lm_forward(params, contexts)[0], ()),
     "the cache must be (contexts, e, h, params); received tuple of length 0"),
    (lambda params, contexts: (lambda s, c: (s, (c[0], c[2], c[1], c[3])))(*wl.window_lm_forward(params, contexts)),
     "scores, contexts (cache[0]) are correct but e (cache[1]), h (cache[2]) are not.\ne (cache[1]) returned by "
     "window_lm_forward has shape "
     "(5, 6); expected shape (12, 6)\n  on case: V=9, window of 3 words, D=4, H=5, N=6 (a word repeats in each "
     "window)"),
    (lambda params, contexts: (lambda s, c: (s, (c[3], c[1], c[2], c[0])))(*wl.window_lm_forward(params, contexts)),
     "the cache must be (contexts, e, h, params), in that order"),
], ids=["scores-only", "empty-cache", "h-e-swapped", "params-first"])
def test_window_lm_forward_with_another_return_format_is_told_so(wrong, message):
    with pytest.raises(CheckFailure) as info:
        checks.check_window_lm_forward(wrong)
    assert str(info.value) == message


def test_changing_the_cache_in_place_is_caught():
    def backward_in_place(dscores, cache):
        grads = wl.window_lm_backward(dscores, cache)
        cache[1][...] = 0.0  # e, in place
        return grads

    with pytest.raises(CheckFailure, match=r"^window_lm_backward changed the values of an array it was given"):
        checks.check_window_lm_backward(backward_in_place)


# ---------------------------------------------------------------- progress


def test_progress_of_03(capfd):
    rows = progress(ASSIGNMENT, dict(REFERENCE))
    assert [r[0] for r in rows] == list(REFERENCE)
    assert all(status == "passes" for _, _, status, _ in rows)
    rows = progress(ASSIGNMENT, {**REFERENCE, "perplexity": lambda lp, nt: float(2 ** (-np.sum(lp) / np.sum(nt))),
                                 "window_lm_backward": not_implemented, "unseen_share": None})
    status = {name: s for name, _, s, _ in rows}
    assert status["perplexity"] == "fails" and status["window_lm_backward"] == "not started"
    assert status["unseen_share"] == "fails"  # None is not a function
    assert sum(s == "passes" for s in status.values()) == len(status) - 3
    rows = progress(ASSIGNMENT, {k: v for k, v in REFERENCE.items() if k != "ngram_counts"})
    assert rows[0][:3] == ("ngram_counts", 10, "missing")
    assert capfd.readouterr() == ("", "")
