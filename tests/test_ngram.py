"""helpers.ngram: n-gram windows and counts against Counters of tuples built sentence by sentence,
add-k / maximum-likelihood / interpolation against their formulas, Kneser-Ney against a slow dict
implementation of Chen & Goodman's interpolated Kneser-Ney, every estimator a distribution over
the V - 1 predictable tokens, sentence log-probabilities, perplexity and the unseen share."""
import itertools
import math
from collections import Counter

import numpy as np
import pytest

from helpers import ngram as ng
from helpers.data.corpus import Corpus, load_corpus

BOS, EOS = 1, 2
NS = [1, 2, 3, 4]


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


@pytest.fixture(scope="module")
def models(corpus):
    return {n: ng.NGramModel(corpus, n) for n in NS}


def make_corpus(train, V, dev=(), test=()):
    """A Corpus with the given sentences (lists of ids) and words w3, w4, ... for ids >= 3."""
    vocab = ("<unk>", "<s>", "</s>", *(f"w{i}" for i in range(3, V)))
    as_arrays = lambda part: tuple(np.array(s, dtype=np.int64) for s in part)  # noqa: E731
    return Corpus(as_arrays(train), as_arrays(dev), as_arrays(test), vocab, {w: i for i, w in enumerate(vocab)},
                  "", "hand-made")


# a tiny corpus: word 8 never occurs in training, word 7 once, <unk> (0) once
TINY_TRAIN = [[3, 4, 5], [3, 4, 6], [4, 5, 3, 4], [5, 0, 3], [3, 3, 4, 5, 6], [7, 4]]
TINY_V = 9


def grams_by_loops(sentences, n, pad):
    """Every n-gram ending at a predicted token (a word or </s>), sentence by sentence, with `pad` <s> in front."""
    out = []
    for s in sentences:
        padded = [BOS] * pad + [int(w) for w in s] + [EOS]
        for i in range(pad, len(padded)):
            out.append(tuple(padded[i - n + 1:i + 1]))
    return out


def key_to_tuple(key, n, V):
    digits = []
    for _ in range(n):
        key, d = divmod(int(key), V)
        digits.append(d)
    return tuple(reversed(digits))


def table_as_dict(keys, counts, n, V):
    return {key_to_tuple(k, n, V): int(c) for k, c in zip(keys, counts)}


def next_word_grams(context, V):
    """(V, len(context) + 1): the context followed by every id."""
    context = np.asarray(context, dtype=np.int64)
    return np.column_stack([np.tile(context, (V, 1)), np.arange(V)])


def contexts_to_try(corpus, n, rng):
    """Contexts of n - 1 ids: sentence starts and middles from train (seen) and dev, random and all-<unk> ones."""
    if n == 1:
        return [np.zeros(0, dtype=np.int64)]
    padded = [np.concatenate([np.full(n - 1, BOS), s]) for s in (corpus.train[0], corpus.train[5], corpus.dev[3])]
    out = [p[:n - 1] for p in padded] + [p[-(n - 1):] for p in padded]
    out += [rng.integers(3, corpus.V, size=n - 1), np.zeros(n - 1, dtype=np.int64)]
    return out


# ---------------------------------------------------------------- windows and keys


@pytest.mark.parametrize("split", ["train", "dev"])
@pytest.mark.parametrize("n", NS)
def test_ngram_windows_one_per_predicted_token_inside_sentences(corpus, split, n):
    ids, sentence = corpus.stream(split, n)
    grams = ng.ngram_windows(ids, sentence, n)
    sentences = getattr(corpus, split)
    assert grams.shape == (corpus.n_tokens(split), n)
    assert [tuple(g) for g in grams.tolist()] == grams_by_loops(sentences, n, max(n - 1, 1))
    assert not (grams[:, -1] == BOS).any()
    if n > 1:  # inside a sentence, <s> is only followed by <s> or a word, never preceded by a word
        assert not ((grams[:, 1:] == BOS) & (grams[:, :-1] != BOS)).any()
        assert not (grams[:, :-1] == EOS).any()  # </s> ends a window or it crossed into the next sentence


@pytest.mark.parametrize("pad_for, n", [(1, 3), (2, 4), (1, 4)])
def test_ngram_windows_never_cross_a_sentence_boundary(corpus, pad_for, n):
    # a stream padded for shorter n-grams: the first words of a sentence have too few tokens before them
    # in their own sentence, and a window reaching back into the previous sentence must be left out
    ids, sentence = corpus.stream("dev", pad_for)
    grams = ng.ngram_windows(ids, sentence, n)
    expected = []
    for s in corpus.dev:
        padded = [BOS] * max(pad_for - 1, 1) + s.tolist() + [EOS]
        expected += [tuple(padded[i - n + 1:i + 1]) for i in range(n - 1, len(padded)) if padded[i] != BOS]
    assert [tuple(g) for g in grams.tolist()] == expected
    assert len(grams) < corpus.n_tokens("dev")


@pytest.mark.parametrize("n, k", [(4, 1), (4, 2), (4, 3), (3, 2)])
def test_lower_order_windows_of_a_longer_padding(corpus, n, k):
    grams = ng.ngram_windows(*corpus.stream("train", n), k)
    assert [tuple(g) for g in grams.tolist()] == grams_by_loops(corpus.train, k, n - 1)


def test_ngram_windows_of_a_hand_made_stream():
    c = make_corpus([[3, 4], [5]], 6)
    ids, sentence = c.stream("train", 3)  # <s> <s> 3 4 </s> | <s> <s> 5 </s>
    grams = ng.ngram_windows(ids, sentence, 3)
    assert grams.tolist() == [[1, 1, 3], [1, 3, 4], [3, 4, 2], [1, 1, 5], [1, 5, 2]]
    assert ng.ngram_windows(ids[:2], sentence[:2], 3).shape == (0, 3)


def test_encode_ngrams_is_the_base_V_number():
    rng = np.random.default_rng(0)
    for n, V in [(1, 7), (2, 7), (3, 50), (5, 6000)]:
        grams = rng.integers(0, V, size=(40, n))
        keys = ng.encode_ngrams(grams, V)
        assert keys.dtype == np.int64 and keys.shape == (40,)
        assert keys.tolist() == [sum(int(g[j]) * V ** (n - 1 - j) for j in range(n)) for g in grams]
        assert [key_to_tuple(k, n, V) for k in keys] == [tuple(g) for g in grams.tolist()]
        # the order of keys is the lexicographic order of the n-grams
        assert sorted(range(40), key=lambda i: keys[i]) == sorted(range(40), key=lambda i: tuple(grams[i]))
    assert ng.encode_ngrams(np.full((1, 5), 5999), 6000)[0] == 6000 ** 5 - 1  # fits in int64


@pytest.mark.parametrize("n", NS)
def test_ngram_counts_against_a_counter(corpus, n):
    grams = ng.ngram_windows(*corpus.stream("train", n), n)
    keys, counts = ng.ngram_counts(grams, corpus.V)
    assert np.all(np.diff(keys) > 0), "keys sorted ascending, each once"
    assert table_as_dict(keys, counts, n, corpus.V) == Counter(grams_by_loops(corpus.train, n, max(n - 1, 1)))


@pytest.mark.parametrize("n", NS)
def test_model_tables_against_counters(corpus, models, n):
    model = models[n]
    assert (model.n, model.V, model.V_out) == (n, corpus.V, corpus.V - 1)
    assert len(model.counts) == n and len(model.continuation) == n - 1
    for k in range(1, n + 1):
        expected = Counter(grams_by_loops(corpus.train, k, n - 1))
        table = model.counts[k - 1]
        assert table_as_dict(table.keys, table.counts, k, corpus.V) == expected
        totals, types = Counter(), Counter()
        for g, c in expected.items():
            totals[g[:-1]] += c
            types[g[:-1]] += 1
        assert table_as_dict(table.ctx_keys, table.ctx_totals, k - 1, corpus.V) == totals
        assert table_as_dict(table.ctx_keys, table.ctx_types, k - 1, corpus.V) == types
        if k < n:  # N1+(. g): the distinct words seen before g
            left = Counter(g[1:] for g in Counter(grams_by_loops(corpus.train, k + 1, n - 1)))
            cont = model.continuation[k - 1]
            assert table_as_dict(cont.keys, cont.counts, k, corpus.V) == left


def test_lookup_hits_misses_and_empty_tables():
    keys, values = np.array([2, 5, 9]), np.array([10, 20, 30])
    np.testing.assert_array_equal(ng.lookup(keys, values, np.array([5, 0, 9, 2, 3, 100, 9])), [20, 0, 30, 10, 0, 0, 30])
    out = ng.lookup(np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([1, 2]))
    np.testing.assert_array_equal(out, [0, 0])


def test_context_stats_against_loops():
    V = 5
    grams = [(1, 3), (1, 3), (3, 4), (3, 2), (3, 4), (4, 2), (0, 0)]
    keys, counts = ng.ngram_counts(np.array(grams), V)
    ctx_keys, totals, types = ng.context_stats(keys, counts, V)
    assert ctx_keys.tolist() == [0, 1, 3, 4]
    assert totals.tolist() == [1, 2, 3, 1] and types.tolist() == [1, 1, 2, 1]
    empty = ng.context_stats(np.array([], dtype=np.int64), np.array([], dtype=np.int64), V)
    assert all(len(a) == 0 for a in empty)


# ---------------------------------------------------------------- add-k, maximum likelihood, interpolation


def test_add_k_prob_formula():
    np.testing.assert_allclose(ng.add_k_prob([3, 0, 5], [10, 10, 5], 1.0, 6), [4 / 16, 1 / 16, 6 / 11])
    np.testing.assert_allclose(ng.add_k_prob(np.array([[2.0]]), np.array([[4.0]]), 0.5, 10), [[2.5 / 9]])
    np.testing.assert_allclose(ng.add_k_prob(0, 0, 0.01, 50), 1 / 50)  # unseen context: uniform


def test_interpolated_prob_formula():
    probs = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.0]])
    np.testing.assert_allclose(ng.interpolated_prob(probs, [0.2, 0.3, 0.5]),
                               [0.2 * 0.1 + 0.3 * 0.3 + 0.5 * 0.5, 0.2 * 0.2 + 0.3 * 0.4])


def counters(sentences, n):
    """c(g) for every order k <= n, from the sentences padded with n - 1 <s>."""
    return {k: Counter(grams_by_loops(sentences, k, n - 1)) for k in range(1, n + 1)}


def context_count(counts, h):
    return sum(c for g, c in counts.items() if g[:-1] == h)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_add_k_against_the_formula_with_counters(corpus, models, n):
    model, c = models[n], counters(corpus.train, n)
    grams = model.grams(corpus, "dev")[:300]
    totals = Counter()
    for g, count in c[n].items():
        totals[g[:-1]] += count
    for k in (1.0, 0.01):
        expected = [(c[n][tuple(g)] + k) / (totals[tuple(g[:-1])] + k * (corpus.V - 1)) for g in grams.tolist()]
        np.testing.assert_allclose(model.add_k(grams, k), expected, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_mle_orders_and_interpolation_against_counters(corpus, models, n):
    model, c = models[n], counters(corpus.train, n)
    grams = model.grams(corpus, "dev")[:300]
    expected = np.zeros((n, len(grams)))
    for k in range(1, n + 1):
        totals = Counter()
        for g, count in c[k].items():
            totals[g[:-1]] += count
        for m, g in enumerate(grams.tolist()):
            h, w = tuple(g[n - k:-1]), g[-1]
            expected[k - 1, m] = c[k][h + (w,)] / totals[h] if totals[h] else 1 / (corpus.V - 1)
    np.testing.assert_allclose(model.mle_orders(grams), expected, rtol=1e-12)
    lambdas = np.arange(1, n + 1) / np.arange(1, n + 1).sum()
    np.testing.assert_allclose(model.interpolated(grams, lambdas), lambdas @ expected, rtol=1e-12)


@pytest.mark.parametrize("split", ["dev", "train"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_tune_lambdas_is_the_best_point_of_the_grid(corpus, models, n, split):
    # on train, the highest order alone fits best; the grid excludes a unigram weight of 0 all the same
    model = models[n]
    grams = model.grams(corpus, split)
    mle = model.mle_orders(grams)
    best, best_ll = None, -math.inf
    for counts in itertools.product(range(11), repeat=n):
        if sum(counts) != 10 or counts[0] == 0:
            continue
        lambdas = np.array(counts) / 10
        ll = float(np.sum(np.log(lambdas @ mle)))
        if ll > best_ll:
            best, best_ll = lambdas, ll
    tuned = model.tune_lambdas(grams)
    np.testing.assert_allclose(tuned, best, atol=1e-12)
    assert tuned[0] > 0 and math.isclose(tuned.sum(), 1.0)


@pytest.mark.parametrize("K, steps", [(1, 10), (2, 4), (3, 10), (4, 5)])
def test_the_grid_of_weights(K, steps):
    points = [tuple(np.round(p * steps).astype(int)) for p in ng._simplex(K, steps)]
    assert len(points) == len(set(points)) == math.comb(steps + K - 1, K - 1)
    assert all(sum(p) == steps and min(p) >= 0 for p in points)
    assert all(math.isclose(float(np.sum(p)), 1.0) for p in ng._simplex(K, steps))


# ---------------------------------------------------------------- Kneser-Ney


def kneser_ney_by_definition(sentences, n, V, d):
    """Interpolated Kneser-Ney (Chen & Goodman 1998) from dicts of tuples; returns prob(h, w), h of n - 1 ids.

        P_k(w | h) = max(c_k(h w) - d, 0) / sum_v c_k(h v) + d * #{v: c_k(h v) > 0} / sum_v c_k(h v) * P_{k-1}(w | h')
        P_0(w) = 1 / V_out

    where c_n is the raw count and c_k (k < n) the continuation count N1+(. h w) = #{x: c(x h w) > 0};
    a context with sum_v c_k(h v) = 0 passes P_{k-1} on unchanged.
    """
    raw = {k: Counter(grams_by_loops(sentences, k, n - 1)) for k in range(1, n + 1)}
    used = {n: raw[n]}
    for k in range(1, n):
        used[k] = Counter(g[1:] for g in raw[k + 1])  # each distinct (k+1)-gram x h w adds 1 to (h w)

    def prob(h, w):
        p = 1.0 / (V - 1)
        for k in range(1, n + 1):
            ctx = tuple(h[len(h) - (k - 1):])
            followers = {g: c for g, c in used[k].items() if g[:-1] == ctx}
            total = sum(followers.values())
            if total > 0:
                p = (max(used[k].get(ctx + (w,), 0) - d, 0) + d * len(followers) * p) / total
        return p
    return prob


def test_kneser_ney_by_hand_on_two_sentences():
    # sentences "a" and "a b" (a = 3, b = 4), bigrams, d = 0.5: worked out on paper
    #   bigrams (<s> a) x2, (a </s>), (a b), (b </s>);  N1+(. a) = 1, N1+(. </s>) = 2, N1+(. b) = 1, total 4
    #   P1(w) = (max(N1+(. w) - 0.5, 0) + 0.5 * 3 / 4) / 4  ->  P1(</s>) = 0.46875, P1(a) = P1(b) = 0.21875
    #   P(w | a) = (max(c(a w) - 0.5, 0) + 0.5 * 2 * P1(w)) / 2
    model = ng.NGramModel(make_corpus([[3], [3, 4]], 5), 2)
    p = model.kneser_ney(next_word_grams([3], 5), d=0.5)
    np.testing.assert_allclose(p[[0, 2, 3, 4]], [0.046875, 0.484375, 0.109375, 0.359375])
    np.testing.assert_allclose(model.kneser_ney(next_word_grams([0], 5), d=0.5)[[0, 2, 3, 4]],
                               [0.09375, 0.46875, 0.21875, 0.21875])  # unseen context: the lower order


@pytest.mark.parametrize("d", [0.75, 0.4, 1.0])
@pytest.mark.parametrize("n", NS)
def test_kneser_ney_against_the_definition_on_a_tiny_corpus(n, d):
    model = ng.NGramModel(make_corpus(TINY_TRAIN, TINY_V), n)
    prob = kneser_ney_by_definition(TINY_TRAIN, n, TINY_V, d)
    for h in itertools.product([0, 1, 3, 4, 5, 8], repeat=n - 1):  # seen and unseen contexts, <s> padding
        got = model.kneser_ney(next_word_grams(h, TINY_V), d)
        np.testing.assert_allclose(got, [prob(h, w) for w in range(TINY_V)], rtol=1e-12, err_msg=f"context {h}")


def test_kneser_ney_against_the_definition_on_the_corpus(corpus, models):
    n, d = 3, 0.75
    grams = models[n].grams(corpus, "dev")[::20]
    prob = kneser_ney_by_definition(corpus.train, n, corpus.V, d)
    np.testing.assert_allclose(models[n].kneser_ney(grams, d), [prob(tuple(g[:-1]), g[-1]) for g in grams.tolist()],
                               rtol=1e-12)


@pytest.mark.parametrize("n", NS)
def test_next_word_distribution_is_kneser_ney_for_the_padded_context(corpus, models, n):
    model = models[n]
    for context in ([], [5], [7, 8, 9, 10, 11]):
        p = ng.next_word_distribution(model, np.array(context, dtype=np.int64))
        padded = [BOS] * (n - 1) + context
        expected = model.kneser_ney(next_word_grams(padded[len(padded) - (n - 1):], corpus.V))
        expected[BOS] = 0.0
        np.testing.assert_allclose(p, expected, rtol=1e-13)
        assert p.shape == (corpus.V,) and p[BOS] == 0.0 and math.isclose(p.sum(), 1.0, rel_tol=1e-9)


# ---------------------------------------------------------------- every estimator is a distribution


def estimators(model, corpus):
    n = model.n
    lambdas = model.tune_lambdas(model.grams(corpus, "dev"))
    return {
        "add-1": (lambda g: model.add_k(g, 1.0), True),
        "add-0.01": (lambda g: model.add_k(g, 0.01), True),
        "maximum likelihood": (lambda g: model.interpolated(g, np.eye(n)[-1]), n == 1),
        "interpolated, tuned": (lambda g: model.interpolated(g, lambdas), True),
        "interpolated, equal": (lambda g: model.interpolated(g, np.full(n, 1 / n)), True),
        "Kneser-Ney": (lambda g: model.kneser_ney(g), True),
        "Kneser-Ney, d = 0.3": (lambda g: model.kneser_ney(g, d=0.3), True),
    }


@pytest.mark.parametrize("n", NS)
def test_every_estimator_sums_to_one_over_the_predictable_tokens(corpus, models, n):
    model, rng = models[n], np.random.default_rng(n)
    predictable = np.arange(corpus.V) != BOS
    for name, (prob, positive) in estimators(model, corpus).items():
        for context in contexts_to_try(corpus, n, rng):
            p = prob(next_word_grams(context, corpus.V))
            assert p.shape == (corpus.V,) and np.all(np.isfinite(p)) and np.all(p >= 0)
            assert math.isclose(p[predictable].sum(), 1.0, rel_tol=1e-9), (name, context.tolist(), p[predictable].sum())
            if positive:
                assert p[predictable].min() > 0, (name, context.tolist())


# ---------------------------------------------------------------- sentence probabilities and perplexity


@pytest.mark.parametrize("n", NS)
def test_sentence_logprob_against_a_loop(corpus, models, n):
    model = models[n]
    for sentence in (corpus.dev[0], corpus.dev[1], np.array([3])):
        padded = [BOS] * (n - 1) + sentence.tolist() + [EOS]
        expected = math.fsum(math.log(model.kneser_ney(np.array([padded[i - n + 1:i + 1]]))[0])
                             for i in range(n - 1, len(padded)))
        assert ng.sentence_logprob(model.kneser_ney, sentence, n) == pytest.approx(expected, rel=1e-12)


def test_sentence_logprob_calls_prob_with_one_ngram_per_predicted_token():
    seen = []

    def prob(grams):
        seen.append(grams.copy())
        return np.full(len(grams), 0.5)

    assert ng.sentence_logprob(prob, np.array([7, 8]), 3) == pytest.approx(3 * math.log(0.5))
    assert seen[0].tolist() == [[1, 1, 7], [1, 7, 8], [7, 8, 2]]
    assert ng.sentence_logprob(prob, np.array([7, 8]), 1) == pytest.approx(3 * math.log(0.5))
    assert seen[1].tolist() == [[7], [8], [2]]


def test_perplexity_is_exp_of_the_mean_negative_log_likelihood_per_token():
    assert ng.perplexity(np.array([-10.0, -30.0]), np.array([4, 6])) == pytest.approx(math.exp(40 / 10))
    assert ng.perplexity([math.log(1 / 7)], [1]) == pytest.approx(7.0)
    rng = np.random.default_rng(0)
    token_probs = rng.uniform(0.01, 1, size=50)
    assert ng.perplexity(np.log(token_probs), np.ones(50)) == pytest.approx(
        math.exp(-math.fsum(math.log(p) for p in token_probs) / 50))


def test_perplexity_of_sentences_equals_that_of_their_tokens(corpus, models):
    model, n = models[3], 3
    logprobs = [ng.sentence_logprob(model.kneser_ney, s, n) for s in corpus.dev]
    lengths = [len(s) + 1 for s in corpus.dev]
    per_token = math.exp(-np.mean(np.log(model.kneser_ney(model.grams(corpus, "dev")))))
    assert ng.perplexity(logprobs, lengths) == pytest.approx(per_token, rel=1e-10)
    uniform = [ng.sentence_logprob(lambda g: np.full(len(g), 1 / model.V_out), s, n) for s in corpus.dev]
    assert ng.perplexity(uniform, lengths) == pytest.approx(model.V_out)  # the uniform model: V_out


def test_kneser_ney_beats_add_one_on_test(corpus, models):
    def ppl(p):
        return math.exp(-np.mean(np.log(p)))
    grams = models[3].grams(corpus, "test")
    assert ppl(models[3].kneser_ney(grams)) < ppl(models[3].add_k(grams, 1.0)) < models[3].V_out


# ---------------------------------------------------------------- sparsity


def test_unseen_share_counts_occurrences():
    assert ng.unseen_share(np.array([1, 4, 9]), np.array([1, 1, 2, 9, 5])) == pytest.approx(2 / 5)
    assert ng.unseen_share(np.array([1, 4, 9]), np.array([2, 2, 2, 1])) == pytest.approx(3 / 4)
    assert ng.unseen_share(np.array([3, 7]), np.array([7, 7, 3])) == 0.0


def test_unseen_share_grows_with_n(corpus, models):
    shares = []
    for n in NS:
        train = set(grams_by_loops(corpus.train, n, max(n - 1, 1)))
        test = grams_by_loops(corpus.test, n, max(n - 1, 1))
        expected = sum(g not in train for g in test) / len(test)
        test_keys = ng.encode_ngrams(models[n].grams(corpus, "test"), corpus.V)
        shares.append(ng.unseen_share(models[n].counts[n - 1].keys, test_keys))
        assert shares[-1] == pytest.approx(expected, abs=1e-15)
    assert shares[0] < 0.01 and all(a < b for a, b in zip(shares, shares[1:])) and shares[-1] > 0.5


@pytest.mark.parametrize("bad", [0, -2, 2.0, "3"])
def test_model_order_must_be_a_positive_integer(corpus, bad):
    with pytest.raises(ValueError, match=rf"^NGramModel: argument 'n' must be a positive integer; received {bad!r}$"):
        ng.NGramModel(corpus, bad)
