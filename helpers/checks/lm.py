"""Checks for the exercises of 03_ngram_vs_neural_lm: counting, smoothing, the chain rule,
perplexity, sparsity, and the fixed-window neural LM with its softmax cross-entropy."""
from __future__ import annotations

import numpy as np

from .. import losses
from .. import ngram as ng
from .. import window_lm as wl
from ..activations import softmax
from .exercises import exercise
from .framework import Case, CheckFailure, call_student, check_gradients, close, passed, run_check, verify_cases


def _grams(rng, M, n, V):
    """M random n-grams (rows) over V ids, with repeats, as a (M, n) int64 array."""
    base = rng.integers(0, V, size=(max(1, M // 3), n))
    return base[rng.integers(0, len(base), size=M)]


@exercise("03_ngram_vs_neural_lm", points=10, reference=ng.ngram_counts)
def check_ngram_counts(ngram_counts, seed: int = 0, hidden: bool = False) -> None:
    """ngram_counts(grams (M, n), V) -> (keys sorted ascending, counts)."""
    rng = np.random.default_rng(seed)
    settings = [(12, 2, 5), (30, 3, 7), (8, 1, 4)] + ([(200, 4, 50), (50, 5, 9)] if hidden else [])
    cases = [Case(f"{M} {n}-grams over V = {V} ids (with repeats)", (_grams(rng, M, n, V), V)) for M, n, V in settings]
    cases.append(Case("20 trigrams using only ids below 6, with V = 10", (_grams(rng, 20, 3, 6), 10)))
    cases.append(Case("40 4-grams over V = 3000 ids (keys up to 8.1e13: int64 needed)", (_grams(rng, 40, 4, 3000), 3000)))

    def hint(case, expected, got):
        grams, V = case.args
        n = grams.shape[1]
        reversed_keys = np.unique(grams @ (V ** np.arange(n, dtype=np.int64)))
        if close(np.sort(got[0]), reversed_keys) and n > 1:
            return "the first word must get the highest power: key = g_1 V^(n-1) + ... + g_{n-1} V + g_n."
        if got[0].shape == (len(grams),):
            return "return each distinct n-gram once, with its count: np.unique(keys, return_counts=True)."

    def two_arrays(grams, V):
        __tracebackhide__ = True
        out = ngram_counts(grams, V)
        if isinstance(out, np.ndarray):
            raise CheckFailure("ngram_counts must return two arrays (keys, counts); it returned one array. "
                               "np.unique(keys, return_counts=True) gives both.")
        return out

    def base_hint(case, expected, got):
        grams, V = case.args
        if grams.max() + 1 < V and close(np.sort(got[0]), np.unique(grams @ ((grams.max() + 1) ** np.arange(
                grams.shape[1] - 1, -1, -1)))):
            return "use the V you are given as the base, not the largest id in the data plus one."
        if got[0].dtype.kind == "f":
            return "the keys must be integers: use an int64 array of powers, V ** np.arange(..., dtype=np.int64)."
        if got[0].dtype != np.int64 or (np.asarray(got[0]) < 0).any():
            return "compute the keys in int64: with V = 3000 and n = 4 they exceed the range of int32."

    run_check(two_arrays if callable(ngram_counts) else ngram_counts, ng.ngram_counts, cases, name="ngram_counts",
              names=("keys", "counts"), hints=(hint, base_hint))


@exercise("03_ngram_vs_neural_lm", points=8, reference=ng.add_k_prob)
def check_add_k_prob(add_k_prob, seed: int = 0, hidden: bool = False) -> None:
    """(c(h,w) + k) / (c(h) + k V_out), elementwise."""
    rng = np.random.default_rng(seed)
    c_h = rng.integers(0, 20, size=8).astype(float)
    c_hw = np.floor(c_h * rng.random(8))
    cases = [Case("c(h,w) = [3, 0, 5], c(h) = [10, 10, 5], k = 0.5, V_out = 6",
                  (np.array([3.0, 0.0, 5.0]), np.array([10.0, 10.0, 5.0]), 0.5, 6)),
             Case("random counts, k = 0.5, V_out = 100", (c_hw, c_h, 0.5, 100))]
    if hidden:
        cases.append(Case("an unseen context c(h) = 0, k = 0.01, V_out = 50",
                          (np.array([0.0, 0.0]), np.array([0.0, 0.0]), 0.01, 50)))

    def hint(case, expected, got):
        c_hw, c_h, k, V = case.args
        if close(got[0], (c_h + k) / (c_h + k * V)):
            return "a context count was used in place of the n-gram count: the numerator is c(h, w) + k."
        if close(got[0], (c_hw + k) / np.maximum(c_h, 1e-300)) or close(got[0], (c_hw + k) / (c_h + k)) \
                or close(got[0], (c_hw + k) / (c_h + V)):
            return "the denominator needs k for every one of the V_out possible next words: c(h) + k V_out."
        if close(got[0], (c_hw + k) / (c_h + k * (V + 1))):
            return "use V_out as given (it already excludes <s>, which is never predicted)."
        if close(got[0], (c_hw + k) // (c_h + k * V)):
            return "// is floor division, which rounds every probability down to 0: divide with /."

    run_check(add_k_prob, ng.add_k_prob, cases, name="add_k_prob", hints=(hint,))


@exercise("03_ngram_vs_neural_lm", points=7, reference=ng.interpolated_prob)
def check_interpolated_prob(interpolated_prob, seed: int = 0, hidden: bool = False) -> None:
    """sum_k lambda_k P_k: probs (K, M), lambdas (K,) -> (M,)."""
    rng = np.random.default_rng(seed)
    sizes = [(3, 5), (2, 4)] + ([(5, 7), (1, 3)] if hidden else [])
    cases = []
    for K, M in sizes:
        lambdas = rng.dirichlet(np.ones(K))
        cases.append(Case(f"{K} orders, {M} n-grams, lambdas = {np.round(lambdas, 3).tolist()}",
                          (rng.random(size=(K, M)), lambdas)))

    def hint(case, expected, got):
        probs, lambdas = case.args
        if close(got[0], lambdas[::-1] @ probs):
            return "the weights are in the wrong order: lambdas[k] belongs to probs[k] (order k + 1)."
        if close(got[0], probs.mean(axis=0)):
            return "use the weights lambdas, not a plain mean."

    run_check(interpolated_prob, ng.interpolated_prob, cases, name="interpolated_prob", hints=(hint,))


def _toy_model(rng, V=6):
    """A prob(grams) function of a trigram table: smoothed random P(w | u, v), normalised over the
    V-1 predictable ids.  Shorter n-grams are read with <unk> (id 0) filling the missing context."""
    table = rng.random(size=(V, V, V)) + 0.1
    table[..., 1] = 0.0  # <s> is never predicted
    table /= table.sum(axis=-1, keepdims=True)

    def prob(grams):
        grams = np.asarray(grams)
        if grams.ndim != 2 or not np.issubdtype(grams.dtype, np.integer):  # as the real models: ids are integers
            raise TypeError(f"prob: the n-grams must be a 2-D integer array of word ids (M, n); received a "
                            f"{grams.dtype} array of shape {grams.shape}")
        grams = grams[:, -3:]
        filler = np.zeros((len(grams), 3 - grams.shape[1]), dtype=np.int64)
        return table[tuple(np.concatenate([filler, grams], axis=1).T)]
    return prob


@exercise("03_ngram_vs_neural_lm", points=12, reference=ng.sentence_logprob)
def check_sentence_logprob(sentence_logprob, seed: int = 0, hidden: bool = False) -> None:
    """sum over the words and </s> of log P(w_i | n-1 previous tokens, padded with <s>), in nats."""
    rng = np.random.default_rng(seed)
    prob = _toy_model(rng)
    settings = [(np.array([3, 4, 5]), 3), (np.array([5]), 3), (np.array([0, 3, 3, 4]), 2), (np.array([4, 3]), 1)]
    if hidden:
        settings += [(rng.integers(3, 6, size=7), 3), (np.array([4, 4]), 1)]
    cases = [Case(f"sentence {s.tolist()} with a {n}-gram model", (prob, s, n)) for s, n in settings]

    def hint(case, expected, got):
        prob, sentence, n = case.args
        padded = np.concatenate([np.full(n - 1, 1), sentence, [2]])
        terms = np.log(prob(np.lib.stride_tricks.sliding_window_view(padded, n)))
        value = float(np.asarray(got[0]))
        if np.isclose(value, terms[:-1].sum()):
            return "the end-of-sentence token </s> (id 2) is missing: it is predicted like a word."
        if np.isclose(value, terms.sum() / np.log(2)):
            return "that is log base 2; the course measures in nats: np.log."
        if np.isclose(value, terms.sum() / np.log(10)):
            return "that is log base 10 (np.log10); the course measures in nats: np.log."
        if np.isclose(value, terms[n - 1:].sum()) or np.isclose(value, terms[n - 1:-1].sum()):
            return "pad the sentence with n-1 start tokens <s> (id 1), so the first words are predicted too."
        for wrong_pad in (np.full(n - 1, 0), np.full(n, 1)):
            other = np.concatenate([wrong_pad, sentence, [2]])
            with np.errstate(divide="ignore"):
                wrong = np.log(prob(np.lib.stride_tricks.sliding_window_view(other, n))).sum()
            if np.isclose(value, wrong):
                return "pad with exactly n-1 start tokens <s>, whose id is 1 (0 is <unk>)."

    def scalar_hint(case, expected, got):
        if np.asarray(got[0]).shape != ():
            return "return one number: the sum of the log-probabilities of all the tokens."

    def float_ids_hint(case, error):
        if isinstance(error, TypeError) and "integer array" in str(error):
            return ("the padded sentence became a float array: [1] * (n - 1) concatenated with ids gives floats "
                    "when n = 1 (an empty list is float), and n-grams are used as indices. Build it from integer "
                    "arrays: np.concatenate([np.full(n - 1, 1), sentence, [2]]).")

    run_check(sentence_logprob, ng.sentence_logprob, cases, name="sentence_logprob", hints=(scalar_hint, hint),
              error_hints=(float_ids_hint,))


@exercise("03_ngram_vs_neural_lm", points=8, reference=ng.perplexity)
def check_perplexity(perplexity, seed: int = 0, hidden: bool = False) -> None:
    """exp(-sum(logprobs) / sum(n_tokens))."""
    rng = np.random.default_rng(seed)
    cases = [Case("two sentences: logprobs [-10, -30], n_tokens [4, 6]", (np.array([-10.0, -30.0]), np.array([4, 6]))),
             Case("five sentences of different lengths", (-rng.uniform(5, 60, size=5), rng.integers(2, 15, size=5)))]
    if hidden:
        cases.append(Case("one token with probability 1/7", (np.array([np.log(1 / 7)]), np.array([1]))))

    def hint(case, expected, got):
        lp, nt = case.args
        value = float(np.asarray(got[0]))
        if np.isclose(value, np.exp(-np.mean(lp / nt))) or np.isclose(value, np.mean(np.exp(-lp / nt))):
            return "that averages per sentence; perplexity averages per token: exp(-sum(logprobs) / sum(n_tokens))."
        if np.isclose(value, 2 ** (-np.sum(lp) / np.sum(nt))):
            return "the log-probabilities are natural logs, so take exp, not 2 **."
        if np.isclose(value, 1 / expected[0]):
            return "the sign: perplexity = exp(minus the mean log-probability) > 1."
        if np.isclose(value, -np.sum(lp) / np.sum(nt)):
            return ("that is the mean negative log-likelihood per token; perplexity is its exponential: "
                    "exp(-sum(logprobs) / sum(n_tokens)).")
        if np.isclose(value, 10 ** (-np.sum(lp) / np.sum(nt))):
            return "the log-probabilities are natural logs, so take exp, not 10 **."

    run_check(perplexity, ng.perplexity, cases, name="perplexity", hints=(hint,))


@exercise("03_ngram_vs_neural_lm", points=8, reference=ng.unseen_share)
def check_unseen_share(unseen_share, seed: int = 0, hidden: bool = False) -> None:
    """The share of test n-gram occurrences whose key is not among the training keys."""
    rng = np.random.default_rng(seed)
    cases = [Case("train keys [1, 4, 9], test keys [1, 2, 2, 9, 5]", (np.array([1, 4, 9]), np.array([1, 2, 2, 9, 5]))),
             Case("random keys with repeats", (np.unique(rng.integers(0, 50, 30)), rng.integers(0, 60, 40)))]
    if hidden:
        cases.append(Case("every test key seen", (np.array([3, 7]), np.array([7, 7, 3]))))

    def hint(case, expected, got):
        train, test = case.args
        value = float(np.asarray(got[0]))
        if np.isclose(value, np.mean(~np.isin(np.unique(test), train))):
            return "count occurrences (tokens), not distinct n-grams (types): a repeated unseen n-gram counts each time."
        if np.isclose(value, np.sum(~np.isin(test, train))) and len(test) > 1:
            return "return a share in [0, 1]: divide the number of unseen occurrences by the number of test n-grams."
        if np.isclose(value, 1 - expected[0]):
            return "that is the share of seen n-grams; the exercise asks for the unseen ones."

    run_check(unseen_share, ng.unseen_share, cases, name="unseen_share", hints=(hint,))


def _scores_cases(rng, hidden):
    settings = [(5, 4), (3, 1)] + ([(9, 6)] if hidden else [])
    cases = [Case(f"scores ({C}, {N}), targets of {N} examples", (rng.normal(size=(C, N)), rng.integers(0, C, size=N)))
             for C, N in settings]
    cases.append(Case("large logits [[1000, -1000], [0, 0], [-1000, 1000]], targets [0, 0]",
                      (np.array([[1000.0, -1000.0], [0.0, 0.0], [-1000.0, 1000.0]]), np.array([0, 0]))))
    cases.append(Case("columns with very different maxima [[1000, -5000], [0, -5001]], targets [1, 1]",
                      (np.array([[1000.0, -5000.0], [0.0, -5001.0]]), np.array([1, 1]))))
    return cases


@exercise("03_ngram_vs_neural_lm", points=12, reference=losses.softmax_cross_entropy)
def check_softmax_cross_entropy(softmax_cross_entropy, seed: int = 0, hidden: bool = False) -> None:
    """(J, dscores) with J = mean -log softmax(scores)[target] and dscores = (softmax - onehot) / N."""
    rng = np.random.default_rng(seed)
    cases = _scores_cases(rng, hidden)

    def hint(case, expected, got):
        scores, targets = case.args
        J, d = got
        N = scores.shape[1]
        cols = np.arange(N)
        with np.errstate(all="ignore"):
            z = scores - scores.max()  # the max of the whole matrix: a column far below it underflows
            global_max = -np.mean((z - np.log(np.exp(z).sum(axis=0, keepdims=True)))[targets, cols])
        if not np.isclose(scores.max(axis=0), scores.max()).all() and np.allclose(J, global_max, equal_nan=True) \
                and not np.isclose(J, expected[0]):
            return ("subtract each column's own maximum, scores.max(axis=0, keepdims=True), not the maximum of the "
                    "whole matrix: a column whose scores are all far below the global maximum underflows to 0.")
        if np.isnan(np.asarray(J)).any() or np.isnan(d).any():
            return ("nan: exp overflowed, or a whole column underflowed to 0. Subtract each column's own max "
                    "(scores.max(axis=0, keepdims=True)) before exp.")
        if np.isinf(np.asarray(J)).any():
            return ("J is inf: a probability rounded to 0 and log(0) = -inf. Compute the log-probabilities "
                    "directly, z - log(sum(exp(z))) with z = scores - column max, instead of the log of the softmax.")
        if scores.shape[0] != N and np.isclose(np.asarray(J), -np.mean(np.log(softmax(scores)[targets].mean(axis=1)))):
            return "the class is the row and the example the column: probs[targets, np.arange(N)]."
        if close(d, softmax(scores) / N):
            return "the gradient is softmax minus one-hot: subtract 1 at the target of each column."
        if close(d, -expected[1]):
            return "the sign of dscores is flipped: dJ/dscores = (softmax - onehot) / N, positive where the model is too sure."
        log_p = np.log(softmax(scores))
        if np.isclose(np.asarray(J), -np.mean(log_p[targets, cols]) / np.log(10)):
            return "that is log base 10 (np.log10); the loss is measured in nats: natural log."
        if scores.shape[0] > 1 and close(J, -np.mean(np.log(softmax(scores.T).T)[targets, cols])):
            return ("the softmax was normalised over the wrong axis: each column is one example, so take the max and "
                    "the sum over axis=0 (with keepdims=True), not axis=1.")
        implied = d * N
        implied[targets, cols] += 1.0  # dscores = (p - onehot) / N gives back the probabilities p used
        if not np.allclose(implied.sum(axis=0), 1.0, atol=1e-6) and np.isfinite(implied).all():
            return ("the probabilities behind your dscores do not sum to 1 down each column: softmax normalises each "
                    "column (one example), with the max and the sum over axis=0 and keepdims=True.")
        if scores.shape[0] >= N and close(J, -np.mean(log_p[cols, targets])):
            return ("log_probs[np.arange(N), targets] swaps rows and columns: the class is the row and the example "
                    "the column, so pick log_probs[targets, np.arange(N)].")
        if close(d, expected[1] * N):
            return "J is a mean over the N examples, so dscores carries a factor 1/N."
        if close(J, expected[0] * N):
            return "J is the mean over the batch, not the sum."

    def index_hint(case, error):
        if isinstance(error, IndexError):
            return ("an index is out of range: log_probs[np.arange(N), targets] swaps rows and columns. The class "
                    "is the row and the example the column: log_probs[targets, np.arange(N)].")

    name = "softmax_cross_entropy"
    caught = verify_cases(softmax_cross_entropy, losses.softmax_cross_entropy, cases, name=name,
                          names=("J", "dscores"), hints=(hint,), error_hints=(index_hint,))
    if hidden:
        scores, targets = rng.normal(size=(6, 4)), rng.integers(0, 6, size=4)
        _, d = call_student(softmax_cross_entropy, name, Case("finite differences", (scores, targets)), caught)
        check_gradients(name, lambda p: losses.softmax_cross_entropy(p["scores"], targets)[0], {"scores": scores},
                        {"scores": d})
    passed(name, len(cases) + hidden, caught)


def _window_cases(rng, hidden):
    settings = [(9, 3, 4, 5, 6), (7, 2, 3, 2, 1)] + ([(12, 4, 2, 3, 5)] if hidden else [])  # V, window, D, H, N
    cases = []
    for V, window, D, H, N in settings:
        params = wl.init_window_lm(V, window, D, H, seed=int(rng.integers(1000)))
        params["E"] = rng.normal(size=(D, V))
        params["b1"], params["b2"] = rng.normal(size=(H, 1)), rng.normal(size=(V, 1))
        contexts = rng.integers(0, V, size=(window, N))
        if window > 2:
            contexts[1] = contexts[0]  # a word twice in the window
        cases.append(Case(f"V={V}, window of {window} words, D={D}, H={H}, N={N}"
                          + (" (a word repeats in each window)" if window > 2 else ""),
                          (params, contexts)))
    return cases


@exercise("03_ngram_vs_neural_lm", points=15, reference=wl.window_lm_forward)
def check_window_lm_forward(window_lm_forward, seed: int = 0, hidden: bool = False) -> None:
    """scores (V, N) = U tanh(W [e_1; ...; e_{n-1}] + b1) + b2, and cache (contexts, e, h, params)."""
    cases = _window_cases(np.random.default_rng(seed), hidden)

    def scores_e_h(params, contexts):
        __tracebackhide__ = True
        out = window_lm_forward(params, contexts)
        if out is None:
            return None
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise CheckFailure(f"window_lm_forward must return (scores, cache); received {type(out).__name__}")
        cache = out[1]
        if not isinstance(cache, (tuple, list)) or len(cache) != 4:
            raise CheckFailure("the cache must be (contexts, e, h, params); received "
                               + (f"{type(cache).__name__} of length {len(cache)}" if isinstance(cache, (tuple, list))
                                  else type(cache).__name__))
        if not isinstance(cache[3], dict) or not isinstance(cache[1], np.ndarray):
            raise CheckFailure("the cache must be (contexts, e, h, params), in that order")
        if any(k not in cache[3] or not np.array_equal(cache[3][k], params[k]) for k in wl.KEYS):
            raise CheckFailure("cache[3] must be the params you were given (window_lm_backward needs W, U and E)")
        return out[0], cache[0], cache[1], cache[2]

    def reference(params, contexts):
        scores, (contexts, e, h, _) = wl.window_lm_forward(params, contexts)
        return scores, contexts, e, h

    def hint(case, expected, got):
        params, contexts = case.args
        interleaved = params["E"][:, contexts].reshape(-1, contexts.shape[1])
        if got[2].shape == expected[2].shape and close(got[2], interleaved) and contexts.shape[0] > 1:
            return ("e stacks whole word vectors: e = [e_1; e_2; ...], rows k*D to (k+1)*D hold the vector of the "
                    "k-th word. E[:, contexts] has shape (D, w, N): transpose to (w, D, N) before reshaping.")
        if close(got[0], softmax(expected[0])):
            return "return the scores (logits) U h + b2; the softmax belongs to the loss."

    run_check(scores_e_h if callable(window_lm_forward) else window_lm_forward, reference, cases, name="window_lm_forward", names=("scores", "contexts (cache[0])", "e (cache[1])", "h (cache[2])"), hints=(hint,))


@exercise("03_ngram_vs_neural_lm", points=20, reference=wl.window_lm_backward)
def check_window_lm_backward(window_lm_backward, seed: int = 0, hidden: bool = False) -> None:
    """Gradients {E, W, b1, U, b2} from dscores and the cache (contexts, e, h, params) of the reference forward."""
    rng = np.random.default_rng(seed)
    cases = []
    for c in _window_cases(rng, hidden):
        params, contexts = c.args
        scores, cache = wl.window_lm_forward(params, contexts)
        cases.append(Case(c.label, (rng.normal(size=scores.shape) / contexts.shape[1], cache)))

    def hint(case, expected, got):
        dscores, (contexts, e, h, params) = case.args
        g, x = dict(zip(wl.KEYS, got)), dict(zip(wl.KEYS, expected))
        N = contexts.shape[1]
        if N > 1 and all(close(g[k], x[k] / N) for k in wl.KEYS):
            return ("every gradient is N times too small: dscores already carries the 1/N of the mean loss, so "
                    "do not divide by N again.")
        if N > 1 and all(close(g[k], x[k] * N) for k in wl.KEYS):
            return "every gradient is N times too large: J is a mean, and dscores already carries its 1/N."
        if all(close(g[k], x[k]) for k in ("W", "b1", "U", "b2")) and not close(g["E"], x["E"]):
            w, N = contexts.shape
            de = params["W"].T @ ((params["U"].T @ dscores) * (1 - h ** 2))
            split_wrong = np.zeros_like(params["E"])
            np.add.at(split_wrong.T, contexts, de.reshape(-1, w, N).transpose(1, 2, 0))
            if close(g["E"], split_wrong):
                return ("split de as de.reshape(w, D, N): rows k*D to (k+1)*D belong to the k-th word of the "
                        "window (reshaping to (D, w, N) mixes the words' coordinates).")
            return ("only dE is wrong. A word that appears twice in a window (or in several windows) gets the sum of "
                    "its gradients: accumulate with np.add.at, do not assign.")
        if close(g["U"], x["U"]) and not close(g["W"], x["W"]):
            return "dU is right, dW is not: dz = (U^T dscores) * (1 - h**2), then dW = dz e^T."

    name = "window_lm_backward"
    caught = verify_cases(window_lm_backward, wl.window_lm_backward, cases, name=name, names=wl.KEYS, mapping=True,
                          hints=(hint,))
    if hidden:
        params, contexts = _window_cases(rng, False)[0].args
        targets = rng.integers(0, params["E"].shape[1], size=contexts.shape[1])
        scores, cache = wl.window_lm_forward(params, contexts)
        grads = call_student(window_lm_backward, name, Case(
            "finite differences", (losses.softmax_cross_entropy(scores, targets)[1], cache)), caught)
        check_gradients(name, lambda p: losses.softmax_cross_entropy(wl.window_lm_forward(p, contexts)[0], targets)[0],
                        dict(params), grads)
    passed(name, len(cases) + hidden, caught)
