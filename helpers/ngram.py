"""n-gram language models (n 元语言模型), counted with NumPy over integer keys.

By the chain rule, P(w_1 ... w_m) = prod_i P(w_i | w_1 ... w_{i-1}); the Markov
assumption (马尔可夫假设) keeps only the last n-1 words: P(w_i | w_{i-n+1} ... w_{i-1}).

Sentences are padded with n-1 start tokens <s> (id 1) and one end token </s>
(id 2, which is predicted like a word); <s> is never predicted, so a model
distributes probability over V_out = V - 1 tokens.  An n-gram (g_1, ..., g_n) of
ids < V is stored as one integer key sum_k g_k V^(n-k) (int64 holds V^n for
V = 6,000 and n = 5), so counting is np.unique over an int64 array.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOS, EOS = 1, 2


def ngram_windows(ids, sentence, n):
    """All n-grams inside sentences of a padded stream (see Corpus.stream), as rows (M, n).

    ids, sentence: (L,) ids and sentence indices.  A window is kept when it lies
    inside one sentence and does not end in <s>, so there is one n-gram per predicted token.
    """
    ids, sentence = np.asarray(ids), np.asarray(sentence)
    if len(ids) < n:
        return np.zeros((0, n), dtype=np.int64)
    start = np.arange(len(ids) - n + 1)
    valid = (sentence[start] == sentence[start + n - 1]) & (ids[start + n - 1] != BOS)
    return np.lib.stride_tricks.sliding_window_view(ids, n)[valid]


def encode_ngrams(grams, V):
    """Integer keys of n-grams: grams (M, n) -> (M,) int64, key = sum_k grams[:, k] * V**(n-1-k)."""
    grams = np.asarray(grams)
    if grams.ndim != 2 or not np.issubdtype(grams.dtype, np.integer):
        raise TypeError(f"encode_ngrams: argument 'grams' must be a 2-D integer array (M, n); received "
                        f"{grams.dtype} array of shape {grams.shape}")
    if not isinstance(V, (int, np.integer)) or V < 1 or V ** grams.shape[1] > np.iinfo(np.int64).max:
        raise ValueError(f"encode_ngrams: argument 'V' must be a positive integer with V**n < 2**63 "
                         f"(n = {grams.shape[1]}); received {V!r}")
    if grams.size and (grams.min() < 0 or grams.max() >= V):
        raise ValueError(f"encode_ngrams: argument 'grams' must hold ids in [0, {V}); received ids from "
                         f"{grams.min()} to {grams.max()}")
    return grams.astype(np.int64) @ (V ** np.arange(grams.shape[1] - 1, -1, -1, dtype=np.int64))


def ngram_counts(grams, V):
    """Distinct n-grams and their counts: grams (M, n) -> keys (K,) sorted ascending, counts (K,)."""
    return np.unique(encode_ngrams(grams, V), return_counts=True)


def lookup(keys, values, query):
    """values[i] where keys[i] == query, else 0, for every query key.  keys sorted; query (M,) -> (M,)."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=np.asarray(values).dtype)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[pos] == query, values[pos], 0)


def context_stats(keys, values, V):
    """Per context h (all but the last word): its key, total sum_w values(h, w) and N1+(h .) = #{w}."""
    ctx = keys // V
    if len(ctx) == 0:
        return ctx, values[:0], values[:0]
    ctx_keys, first, types = np.unique(ctx, return_index=True, return_counts=True)
    return ctx_keys, np.add.reduceat(values, first), types


def add_k_prob(c_hw, c_h, k, V_out):
    """Add-k smoothing (加 k 平滑): P(w | h) = (c(h, w) + k) / (c(h) + k V_out).  Arrays of any shape."""
    return (np.asarray(c_hw, dtype=float) + k) / (np.asarray(c_h, dtype=float) + k * V_out)


def interpolated_prob(probs, lambdas):
    """Linear interpolation: sum_k lambda_k P_k.  probs (K, M) for orders 1..K, lambdas (K,) summing to 1."""
    return np.asarray(lambdas, dtype=float) @ np.asarray(probs, dtype=float)


@dataclass
class Table:
    """Counts of one order: the n-gram keys with their counts, and per context the totals."""

    keys: np.ndarray
    counts: np.ndarray
    ctx_keys: np.ndarray
    ctx_totals: np.ndarray
    ctx_types: np.ndarray

    @classmethod
    def build(cls, keys, counts, V):
        return cls(keys, counts, *context_stats(keys, counts, V))


class NGramModel:
    """Counts of orders 1..n from the training sentences, with three estimators:
    add-k, linear interpolation of maximum-likelihood estimates, and interpolated Kneser-Ney."""

    def __init__(self, corpus, n):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"NGramModel: argument 'n' must be a positive integer; received {n!r}")
        self.n, self.V, self.V_out = int(n), corpus.V, corpus.V - 1
        ids, sentence = corpus.stream("train", self.n)
        self.counts = [Table.build(*ngram_counts(ngram_windows(ids, sentence, k), self.V), self.V)
                       for k in range(1, self.n + 1)]
        # continuation counts N1+(. h w): distinct left extensions, from the next order's keys
        self.continuation = []
        for k in range(1, self.n):
            suffixes, cont = np.unique(self.counts[k].keys % self.V ** k, return_counts=True)
            self.continuation.append(Table.build(suffixes, cont, self.V))

    def grams(self, corpus, split):
        """The n-grams (one per predicted token) of a split: (M, n)."""
        return ngram_windows(*corpus.stream(split, self.n), self.n)

    def _counts(self, grams, table):
        """(c(h, w), c(h), N1+(h .)) of each row of grams (M, k) in table."""
        keys = encode_ngrams(grams, self.V)
        ctx = keys // self.V
        return (lookup(table.keys, table.counts, keys), lookup(table.ctx_keys, table.ctx_totals, ctx),
                lookup(table.ctx_keys, table.ctx_types, ctx))

    def add_k(self, grams, k=1.0, estimate=add_k_prob):
        """Add-k estimate of P(w | h) for the rows of grams (M, n), by ``estimate(c_hw, c_h, k, V_out)``
        (add_k_prob, or your own)."""
        c_hw, c_h, _ = self._counts(grams, self.counts[grams.shape[1] - 1])
        return estimate(c_hw, c_h, k, self.V_out)

    def mle_orders(self, grams):
        """(n, M): maximum-likelihood P_k(w | last k-1 words) for k = 1..n; 1/V_out where the context is unseen."""
        rows = []
        for k in range(1, self.n + 1):
            c_hw, c_h, _ = self._counts(grams[:, self.n - k:], self.counts[k - 1])
            rows.append(np.where(c_h > 0, c_hw / np.maximum(c_h, 1), 1.0 / self.V_out))
        return np.array(rows)

    def interpolated(self, grams, lambdas, estimate=interpolated_prob):
        """Linear interpolation of the maximum-likelihood estimates of orders 1..n, by
        ``estimate(probs, lambdas)`` (interpolated_prob, or your own)."""
        return estimate(self.mle_orders(grams), lambdas)

    def tune_lambdas(self, grams, steps=10):
        """The weights on a grid of the simplex (step 1/steps) with the highest log-likelihood of ``grams``.
        Weight 0 for the unigram is excluded, so no dev word gets probability 0."""
        probs = np.log(np.maximum(self.mle_orders(grams), 1e-300)).T  # (M, n) in log space for stability
        best, best_ll = None, -np.inf
        for lambdas in _simplex(self.n, steps):
            if lambdas[0] == 0:
                continue
            ll = np.sum(np.log(np.exp(probs) @ lambdas))
            if ll > best_ll:
                best, best_ll = lambdas, ll
        return best

    def kneser_ney(self, grams, d=0.75):
        """Interpolated Kneser-Ney (Chen & Goodman 1998) with one discount d, for the rows of grams (M, n).

        Highest order:  P(w|h) = max(c(h,w) - d, 0) / c(h) + d N1+(h .) / c(h) * P_lower(w|h'),
        lower orders the same with continuation counts N1+(. h' w) in place of c, and at the
        bottom the continuation unigram, interpolated with the uniform 1/V_out.
        A context never seen gives all its weight to the lower order.
        """
        c, c_h, types = self._counts(grams[:, -1:], self.continuation[0]) if self.n > 1 else \
            self._counts(grams[:, -1:], self.counts[0])
        p = (np.maximum(c - d, 0) + d * types / self.V_out) / c_h  # c_h: total of the unigram table
        for k in range(2, self.n + 1):
            table = self.counts[k - 1] if k == self.n else self.continuation[k - 1]
            c, c_h, types = self._counts(grams[:, self.n - k:], table)
            seen = c_h > 0
            p = np.where(seen, (np.maximum(c - d, 0) + d * types * p) / np.maximum(c_h, 1), p)
        return p


def next_word_distribution(model, context_ids, d=0.75):
    """Kneser-Ney P(next word | the last n-1 ids of context_ids, padded with <s>): (V,), 0 for <s>."""
    n, V = model.n, model.V
    context = np.concatenate([np.full(n - 1, BOS), np.asarray(context_ids, dtype=np.int64)])[len(context_ids):]
    grams = np.column_stack([np.tile(context, (V, 1)), np.arange(V)]) if n > 1 else np.arange(V)[:, None]
    p = model.kneser_ney(grams, d)
    p[BOS] = 0.0
    return p


def _simplex(K, steps):
    """All weight vectors (K,) with entries in {0, 1/steps, ..., 1} summing to 1."""
    if K == 1:
        yield np.ones(1)
        return
    for first in range(steps + 1):
        for rest in _simplex(K - 1, steps - first):
            yield np.concatenate([[first / steps], rest * (steps - first) / steps]) if steps > first else \
                np.concatenate([[1.0], np.zeros(K - 1)])


def sentence_logprob(prob, sentence, n):
    """log P(sentence) = sum of log P(w_i | h_i) over its words and the final </s>, in nats.

    prob: callable, (M, n) n-grams -> (M,) probabilities;  sentence: (m,) word ids without boundaries.
    """
    padded = np.concatenate([np.full(n - 1, BOS), np.asarray(sentence, dtype=np.int64), [EOS]])
    grams = np.lib.stride_tricks.sliding_window_view(padded, n)
    return float(np.sum(np.log(prob(grams))))


def perplexity(logprobs, n_tokens):
    """exp of the mean negative log-likelihood per token: exp(-sum(logprobs) / sum(n_tokens)).

    logprobs: natural-log probabilities of sentences (or tokens);  n_tokens: the tokens they cover.
    """
    logprobs, n_tokens = np.atleast_1d(logprobs), np.atleast_1d(n_tokens)
    if logprobs.shape != n_tokens.shape or np.sum(n_tokens) <= 0:
        raise ValueError(f"perplexity: arguments 'logprobs' and 'n_tokens' must have the same shape and cover at "
                         f"least one token; received shapes {logprobs.shape} and {n_tokens.shape}, "
                         f"{np.sum(n_tokens)} tokens")
    return float(np.exp(-np.sum(logprobs) / np.sum(n_tokens)))


def unseen_share(train_keys, test_keys):
    """The share of test n-gram occurrences (tokens, not types) whose n-gram never occurs in training."""
    if np.size(test_keys) == 0:
        raise ValueError("unseen_share: argument 'test_keys' must hold at least one key; received an empty array")
    return float(np.mean(~np.isin(test_keys, train_keys)))
