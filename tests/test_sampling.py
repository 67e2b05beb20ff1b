"""helpers.sampling against plain-Python oracles: temperature (its limits, large scores), top-k and top-p
(exact filtered probabilities on hand-made distributions, ties included, and a loop on random tied
distributions), inverse-CDF sampling at the CDF's edges, the generation loop (its exact distribution on a
small Markov chain from injected uniforms, the state carried, the prompt fed once), greedy decoding and
beam search (exhaustive search on tiny vocabularies, a list-based beam search, width 1 = greedy,
log-probabilities where probabilities underflow), distinct-n and the repetition rate, argument errors."""
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from helpers import sampling as smp
from helpers.cells import Cell

EPS64 = np.finfo(np.float64).eps


def exact(fractions):
    """Floats of exact fractions (a correctly rounded division gives exactly these)."""
    return np.array([float(f) for f in fractions])


def softmax_by_loops(column, T=1.0):
    m = max(column)
    e = [math.exp((s - m) / T) for s in column]
    total = math.fsum(e)
    return [x / total for x in e]


def log_softmax_by_loops(column):
    m = max(column)
    log_z = m + math.log(math.fsum(math.exp(s - m) for s in column))
    return [s - log_z for s in column]


def ranked(column):
    """Token ids by decreasing probability, ties by the lower id first."""
    return sorted(range(len(column)), key=lambda i: (-column[i], i))


def renormalised_by_loops(column, kept):
    total = math.fsum(column[i] for i in kept)
    return [column[i] / total if i in kept else 0.0 for i in range(len(column))]


def tied_distributions(rng, V, N, denominator=64):
    """(V, N) dyadic distributions (multiples of 1/64: exact sums) with many ties and some zeros."""
    counts = rng.multinomial(denominator, np.ones(V) / V, size=N).T
    return counts / denominator


class UniformStub:
    """Stands in for a Generator inside a choice rule: random(N) returns the next prepared row of uniforms."""

    def __init__(self, rows):
        self.rows = iter(rows)

    def random(self, size):
        row = np.asarray(next(self.rows), dtype=float)
        assert row.shape == (size,)
        return row


# ---------------------------------------------------------------- softmax with temperature


@pytest.mark.parametrize("T", [1.0, 0.5, 2.0, 7.3])
def test_softmax_with_temperature_against_a_loop(T):
    scores = np.random.default_rng(1).normal(scale=3, size=(6, 4))
    expected = np.array([softmax_by_loops(list(scores[:, n]), T) for n in range(4)]).T
    np.testing.assert_allclose(smp.softmax_with_temperature(scores, T), expected, rtol=1e-13)
    np.testing.assert_allclose(smp.softmax_with_temperature(scores[:, 2], T), expected[:, 2], rtol=1e-13)


def test_temperature_divides_the_scores():
    # scores log([1, 2, 4, 1]) at T = 1/2 are squared probabilities: [1, 4, 16, 1] / 22
    scores = np.log([1.0, 2.0, 4.0, 1.0])
    np.testing.assert_allclose(smp.softmax_with_temperature(scores, 0.5), np.array([1, 4, 16, 1]) / 22, rtol=1e-14)
    np.testing.assert_allclose(smp.softmax_with_temperature(scores, 2.0), np.sqrt([1, 2, 4, 1]) / (4 + np.sqrt(2)),
                               rtol=1e-14)


def test_temperature_limits():
    scores = np.array([[1.0, 3.0], [3.0, 3.0], [2.0, -1.0]])
    np.testing.assert_array_equal(smp.softmax_with_temperature(scores, 1e-300), [[0, 0.5], [1, 0.5], [0, 0]])
    cold = smp.softmax_with_temperature(scores, 0.01)
    assert 0 < cold[0, 0] < 1e-80 and 0 < cold[2, 0] < 1e-40 and cold[0, 1] == cold[1, 1] == 0.5   # e^-200, e^-100
    np.testing.assert_array_equal(smp.softmax_with_temperature(scores, 1e300), np.full((3, 2), 1 / 3))
    hot = smp.softmax_with_temperature(scores, 1e6)
    assert np.abs(hot - 1 / 3).max() < 1e-5
    # -inf scores (masked tokens) get 0, however hot
    np.testing.assert_array_equal(smp.softmax_with_temperature([0.0, -np.inf, 5.0], 1e300), [0.5, 0, 0.5])


@pytest.mark.parametrize("T", [1.0, 1e-3, 50.0])
def test_temperature_is_stable_for_scores_of_1e4(T):
    scores = np.array([[1e4, -1e4], [1e4 - 1, -1e4 - 2], [-1e4, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # exp(-2e4) underflowing to 0 is fine
        p = smp.softmax_with_temperature(scores, T)
    expected = np.array([softmax_by_loops(list(scores[:, n]), T) for n in range(2)]).T
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-300)
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=0), 1)


def test_temperature_keeps_float32():
    p = smp.softmax_with_temperature(np.array([[1.0, 2.0], [3.0, -1.0]], dtype=np.float32), 0.7)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, np.array([softmax_by_loops([1, 3], 0.7), softmax_by_loops([2, -1], 0.7)]).T,
                               rtol=1e-6)


# ---------------------------------------------------------------- top-k


@pytest.mark.parametrize("probs, k, expected", [
    ([0.25, 0.5, 0.125, 0.125], 1, [0, 1, 0, 0]),
    ([0.25, 0.5, 0.125, 0.125], 2, [Fraction(1, 3), Fraction(2, 3), 0, 0]),
    ([0.25, 0.5, 0.125, 0.125], 3, [Fraction(2, 7), Fraction(4, 7), Fraction(1, 7), 0]),   # tie at the k-th: lower id
    ([0.25, 0.5, 0.125, 0.125], 4, [0.25, 0.5, 0.125, 0.125]),
    ([0.25, 0.5, 0.125, 0.125], 9, [0.25, 0.5, 0.125, 0.125]),
    ([0.125, 0.25, 0.25, 0.375], 2, [0, Fraction(2, 5), 0, Fraction(3, 5)]),
    ([0.375, 0.375, 0.25], 1, [1, 0, 0]),                                                   # tie at the top
    ([0.25, 0.25, 0.25, 0.25], 2, [0.5, 0.5, 0, 0]),
    ([0.25, 0.25, 0.25, 0.25], 3, [Fraction(1, 3)] * 3 + [0]),
    ([0, 0.5, 0, 0.5], 3, [0, 0.5, 0, 0.5]),                                                # a kept zero stays 0
])
def test_top_k_exact_filtered_probabilities(probs, k, expected):
    out = smp.top_k_filter(np.array(probs), k)
    np.testing.assert_array_equal(out, exact(expected))
    assert np.count_nonzero(out) == min(k, np.count_nonzero(probs))


def test_top_k_keeps_exactly_k_on_random_tied_distributions_as_columns():
    rng = np.random.default_rng(2)
    probs = tied_distributions(rng, V=7, N=40)
    for k in range(1, 9):
        out = smp.top_k_filter(probs, k)
        expected = np.array([renormalised_by_loops(list(probs[:, n]), set(ranked(list(probs[:, n]))[:k]))
                             for n in range(40)]).T
        np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(out, smp.top_k_filter(probs[:, ::-1], k)[:, ::-1])   # columns independent


def test_top_k_keeps_float32():
    out = smp.top_k_filter(np.array([0.5, 0.25, 0.25], dtype=np.float32), 2)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([2 / 3, 1 / 3, 0], dtype=np.float32))


# ---------------------------------------------------------------- top-p


@pytest.mark.parametrize("probs, p, expected", [
    ([0.5, 0.25, 0.125, 0.125], 0.75, [Fraction(2, 3), Fraction(1, 3), 0, 0]),         # mass exactly p: reached
    ([0.5, 0.25, 0.125, 0.125], 0.8, [Fraction(4, 7), Fraction(2, 7), Fraction(1, 7), 0]),   # not one short
    ([0.5, 0.25, 0.125, 0.125], 0.5, [1, 0, 0, 0]),
    ([0.5, 0.25, 0.125, 0.125], 0.1, [1, 0, 0, 0]),
    ([0.5, 0.25, 0.125, 0.125], 1.0, [0.5, 0.25, 0.125, 0.125]),
    ([0.125, 0.25, 0.125, 0.5], 0.875, [Fraction(1, 7), Fraction(2, 7), 0, Fraction(4, 7)]),   # tie: lower id
    ([0.25, 0.25, 0.25, 0.25], 0.5, [0.5, 0.5, 0, 0]),
    ([0.25, 0.25, 0.25, 0.25], 0.6, [Fraction(1, 3)] * 3 + [0]),
    ([0.5, 0, 0.5, 0], 1.0, [0.5, 0, 0.5, 0]),
    ([0.0, 1.0, 0.0], 0.3, [0, 1, 0]),
])
def test_top_p_exact_filtered_probabilities(probs, p, expected):
    np.testing.assert_array_equal(smp.top_p_filter(np.array(probs), p), exact(expected))


def test_top_p_reaches_p_despite_rounding_of_the_sum():
    probs = np.full(10, 0.1)
    assert math.fsum([0.1] * 8) == 0.8 and np.cumsum(probs)[7] < 0.8   # the float sum falls short of 0.8
    np.testing.assert_allclose(smp.top_p_filter(probs, 0.8), [0.125] * 8 + [0, 0], rtol=1e-15)
    np.testing.assert_allclose(smp.top_p_filter(probs, 0.3), [1 / 3] * 3 + [0] * 7, rtol=1e-15)


def nucleus_by_loops(column, p):
    """The smallest prefix of the ranking whose exact mass reaches p."""
    kept, mass = set(), Fraction(0)
    for i in ranked(column):
        kept.add(i)
        mass += Fraction(column[i])
        if mass >= Fraction(p):
            break
    return renormalised_by_loops(column, kept)


def test_top_p_on_random_tied_distributions_as_columns():
    rng = np.random.default_rng(3)
    probs = tied_distributions(rng, V=6, N=50)
    for p in [1 / 64, 0.2, 0.25, 0.5, 33 / 64, 0.9, 1.0]:
        expected = np.array([nucleus_by_loops(list(probs[:, n]), p) for n in range(50)]).T
        np.testing.assert_allclose(smp.top_p_filter(probs, p), expected, rtol=1e-15, atol=0)
        np.testing.assert_allclose(smp.top_p_filter(probs[:, 7], p), expected[:, 7], rtol=1e-15, atol=0)


def test_top_p_keeps_float32():
    out = smp.top_p_filter(np.array([[0.5, 0.25], [0.25, 0.75], [0.25, 0.0]], dtype=np.float32), 0.7)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([[2 / 3, 0], [1 / 3, 1], [0, 0]], dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_top_p_of_one_keeps_every_token_of_nonzero_probability(dtype):
    """p = 1 is "off" (the sampling explorer's default): a tail of tiny probabilities, whose mass is below
    the rounding tolerance of float32 (31 eps = 3.7e-6), is kept, and a zero stays zero."""
    probs = np.zeros(31, dtype=dtype)
    probs[:5] = [0.6, 0.4 - 2e-6, 1e-6, 1e-6, 0.0]
    out = smp.top_p_filter(probs, 1.0)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out > 0, probs > 0)
    np.testing.assert_allclose(out, probs / probs.sum(), rtol=1e-6)


# ---------------------------------------------------------------- sample_from


@pytest.mark.parametrize("probs, u, expected", [
    ([0.25, 0.25, 0.5], 0.0, 0),
    ([0.25, 0.25, 0.5], np.nextafter(0.25, 0), 0),
    ([0.25, 0.25, 0.5], 0.25, 1),                        # exactly on a boundary: the next token
    ([0.25, 0.25, 0.5], 0.5, 2),
    ([0.25, 0.25, 0.5], np.nextafter(1.0, 0), 2),
    ([0.0, 0.5, 0.5], 0.0, 1),                           # u = 0 never picks a token of probability 0
    ([0.5, 0.0, 0.5], 0.5, 2),
    ([0.5, 0.5, 0.0], np.nextafter(1.0, 0), 1),
    ([1.0], 0.999, 0),
])
def test_sample_from_at_the_edges_of_the_cdf(probs, u, expected):
    result = smp.sample_from(np.array(probs), u)
    assert result == expected and isinstance(result, int)


def test_sample_from_when_the_float_cdf_ends_below_u():
    probs = np.array([0.1] * 10 + [0.0, 0.0])
    u = np.nextafter(1.0, 0)
    assert np.cumsum(probs)[-1] <= u             # no index has cumsum > u
    assert smp.sample_from(probs, u) == 9        # the last token of nonzero probability
    p32 = np.full(12, 1 / 12, dtype=np.float32)
    assert np.cumsum(p32)[-1] < 0.99999999
    assert smp.sample_from(p32, 0.99999999) == 11


def test_sample_from_gives_each_token_its_probability_on_a_grid_of_uniforms():
    probs = tied_distributions(np.random.default_rng(4), V=8, N=5)
    grid = np.arange(1024) / 1024                  # 1024 equally spaced u, boundaries included
    for n in range(5):
        ids = smp.sample_from(np.repeat(probs[:, n:n + 1], 1024, axis=1), grid)
        assert ids.dtype == np.int64 and ids.shape == (1024,)
        np.testing.assert_array_equal(np.bincount(ids, minlength=8), probs[:, n] * 1024)
        assert all(ids[j] == smp.sample_from(probs[:, n], grid[j]) for j in range(0, 1024, 97))


# ---------------------------------------------------------------- a Markov chain as a model


# transition probabilities P[next, current] of a 3-token chain, in eighths (exact in floating point)
CHAIN = np.array([[1, 4, 2], [3, 0, 5], [4, 4, 1]]) / 8


def chain_step(ids, state):
    """The chain as a model: the logits of the next token are log P[:, current]; the state counts steps."""
    with np.errstate(divide="ignore"):
        return np.log(CHAIN[:, ids]), state + 1


def chain_probs_step(ids, state):
    """The chain as a model that returns the probabilities P[:, current] themselves (exact eighths), for a
    choice rule that samples from them with injected uniforms, boundaries included."""
    return CHAIN[:, ids], state + 1


def walk_by_loops(start, uniforms):
    """The chain's path from ``start`` for given uniforms, by inverse CDF in plain Python."""
    path, current = [], start
    for u in uniforms:
        cdf, nxt = 0.0, None
        for i in range(3):
            cdf += CHAIN[i, current]
            if cdf > u:
                nxt = i
                break
        path.append(nxt)
        current = nxt
    return path


def inverse_cdf_choice(uniform_rows):
    stub = UniformStub(uniform_rows)
    return lambda probs, rng: smp.sample_from(probs, stub.random(probs.shape[1]))


def test_generate_follows_the_chain_for_injected_uniforms():
    rng = np.random.default_rng(5)
    uniforms = (rng.integers(0, 8, size=(6, 40)) + rng.choice([0.0, 0.5], size=(6, 40))) / 8   # boundaries included
    starts = rng.integers(0, 3, size=40)
    ids = smp.generate(chain_probs_step, np.zeros((1, 40)), starts[None, :], 6, inverse_cdf_choice(uniforms), rng)
    assert ids.shape == (6, 40) and ids.dtype == np.int64
    for n in range(40):
        assert ids[:, n].tolist() == walk_by_loops(starts[n], uniforms[:, n])


def test_generate_has_the_chain_distribution_exactly():
    # every sequence of 3 tokens after the prompt [0, 2] gets its probability P(a|2) P(b|a) P(c|b):
    # with 8 equally spaced uniforms (midpoints) per step, the 512 runs split in exact proportions
    grid = (np.arange(8) + 0.5) / 8
    U = np.array(list(itertools.product(grid, repeat=3))).T          # (3, 512)
    prompt = np.tile([[0], [2]], (1, 512))
    ids = smp.generate(chain_probs_step, np.zeros((1, 512)), prompt, 3, inverse_cdf_choice(U), np.random.default_rng(0))
    counts = {}
    for column in ids.T:
        counts[tuple(column)] = counts.get(tuple(column), 0) + 1
    for seq in itertools.product(range(3), repeat=3):
        probability = CHAIN[seq[0], 2] * CHAIN[seq[1], seq[0]] * CHAIN[seq[2], seq[1]]
        assert counts.get(seq, 0) == probability * 512, seq


def test_generate_with_the_sampler_matches_the_chain_in_total_variation():
    # a fixed seed, 20,000 samples of 27 sequences: the total-variation distance of a correct sampler is
    # about 0.02 (its expectation is 0.014); a sampler off by one token at the CDF edges is at 0.3 or more
    N = 20_000
    ids = smp.generate(chain_step, np.zeros((1, N)), np.ones((1, N), dtype=int), 3, smp.sampler(),
                       np.random.default_rng(6))
    keys = ids[0] * 9 + ids[1] * 3 + ids[2]
    empirical = np.bincount(keys, minlength=27) / N
    exact_p = np.array([CHAIN[a, 1] * CHAIN[b, a] * CHAIN[c, b] for a, b, c in itertools.product(range(3), repeat=3)])
    assert 0.5 * np.abs(empirical - exact_p).sum() < 0.03
    assert empirical[exact_p == 0].sum() == 0


def test_the_sampler_is_temperature_then_top_k_then_top_p_then_inverse_cdf():
    rng = np.random.default_rng(7)
    logits = rng.normal(scale=2, size=(9, 30))
    u = rng.random(30)
    choose = smp.sampler(temperature=0.6, top_k=5, top_p=0.7)
    probs = smp.top_p_filter(smp.top_k_filter(smp.softmax_with_temperature(logits, 0.6), 5), 0.7)
    np.testing.assert_array_equal(choose(logits, UniformStub([u])), smp.sample_from(probs, u))
    plain = smp.sampler()(logits, UniformStub([u]))
    np.testing.assert_array_equal(plain, smp.sample_from(smp.softmax_with_temperature(logits, 1.0), u))
    np.testing.assert_array_equal(smp.argmax_choice(logits), [int(np.argmax(c)) for c in logits.T])


# ---------------------------------------------------------------- the state and the prompt


class HistoryModel:
    """A model whose logits depend on the whole history through its state (a tuple, as the LSTM's): the
    next token favours hash(history) mod V.  It records every call."""

    V = 5

    def __init__(self):
        self.fed = []

    @staticmethod
    def zero_state(N):
        return (np.zeros((1, N), dtype=np.int64), np.zeros((1, N), dtype=np.int64))

    @staticmethod
    def next_hash(h, ids):
        return (h * 7 + ids + 1) % 101

    def __call__(self, ids, state):
        self.fed.append(np.array(ids))
        h, steps = state
        h = self.next_hash(h, np.asarray(ids)[None, :])
        logits = np.where(np.arange(self.V)[:, None] == h % self.V, 3.0, 0.0)
        return logits, (h, steps + 1)


def history_by_loops(prompt, n_tokens):
    """Greedy continuation of HistoryModel for one prompt, by the definition."""
    h = 0
    for token in prompt:
        h = (h * 7 + token + 1) % 101
    out = []
    for _ in range(n_tokens):
        out.append(h % HistoryModel.V)
        h = (h * 7 + out[-1] + 1) % 101
    return out


def test_generate_carries_the_state_and_feeds_the_prompt_once():
    model = HistoryModel()
    prompt = np.array([[3, 1], [0, 4], [2, 2]])          # (P, N) = (3, 2)
    ids = smp.generate(model, model.zero_state(2), prompt, 12, smp.argmax_choice, np.random.default_rng(0))
    for n in range(2):
        assert ids[:, n].tolist() == history_by_loops(prompt[:, n].tolist(), 12)
    fed = np.array(model.fed)
    assert fed.shape == (3 + 12 - 1, 2)
    np.testing.assert_array_equal(fed, np.concatenate([prompt, ids[:-1]]))


def test_generate_one_prompt_returns_one_sequence():
    model = HistoryModel()
    ids = smp.generate(model, model.zero_state(1), [4, 4], 7, smp.argmax_choice, np.random.default_rng(0))
    assert ids.shape == (7,) and ids.tolist() == history_by_loops([4, 4], 7)
    assert [f.tolist() for f in model.fed] == [[4], [4]] + [[i] for i in ids[:-1]]


def test_generate_passes_the_rng_to_choose():
    seen = []

    def choose(logits, rng):
        seen.append(rng)
        return np.zeros(logits.shape[1], dtype=np.int64)

    rng = np.random.default_rng(0)
    smp.generate(chain_step, np.zeros((1, 1)), [0], 4, choose, rng)
    assert len(seen) == 4 and all(r is rng for r in seen)


# ---------------------------------------------------------------- lm_step with a cell


def tanh_rnn_cell():
    def step(x, h, p):
        h = np.tanh(p["Wx"] @ x + p["Wh"] @ h + p["b"])
        return h, h

    def unused(*args):
        raise NotImplementedError

    return Cell("rnn", ("Wx", "Wh", "b"), unused, unused, unused, unused, step,
                lambda H, N, dtype: np.zeros((H, N), dtype))


def tiny_lm(V=3, D=2, H=4, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    return {"E": rng.normal(size=(D, V)), "Wx": rng.normal(size=(H, D)), "Wh": rng.normal(size=(H, H)),
            "b": rng.normal(size=(H, 1)), "U": rng.normal(scale=scale, size=(V, H)), "b2": rng.normal(size=(V, 1))}


def test_lm_step_embeds_steps_the_cell_and_projects():
    params, cell = tiny_lm(V=5, D=3, H=4, seed=1), tanh_rnn_cell()
    step = smp.lm_step(params, cell)
    ids = np.array([[4, 0], [1, 1], [3, 2]])
    state = cell.zero_state(4, 2, np.float64)
    for t in range(3):
        logits, state = step(ids[t], state)
        for n in range(2):
            h = [0.0] * 4 if t == 0 else list(hs[n])
            x = params["E"][:, ids[t, n]]
            new_h = [math.tanh(math.fsum(params["Wx"][i, j] * x[j] for j in range(3)) +
                               math.fsum(params["Wh"][i, j] * h[j] for j in range(4)) + params["b"][i, 0])
                     for i in range(4)]
            expected = [math.fsum(params["U"][v, i] * new_h[i] for i in range(4)) + params["b2"][v, 0]
                        for v in range(5)]
            np.testing.assert_allclose(logits[:, n], expected, rtol=1e-12)
            np.testing.assert_allclose(state[:, n], new_h, rtol=1e-12)
        hs = state.T.copy()


def test_lm_step_names_missing_parameters_and_bad_cells():
    params = tiny_lm()
    del params["b2"]
    with pytest.raises(ValueError, match=r"^lm_step: argument 'params' is missing key\(s\) \['b2'\]"):
        smp.lm_step(params, tanh_rnn_cell())
    with pytest.raises(ValueError, match=r"^argument 'cell' must be one of \['rnn', 'lstm', 'gru'\]"):
        smp.lm_step(tiny_lm(), "transformer")


def test_select_columns_keeps_the_structure_of_the_state():
    h, c = np.arange(6.0).reshape(2, 3), np.arange(6.0, 12.0).reshape(2, 3)
    columns = np.array([2, 2, 0])
    picked = smp.select_columns((h, [c, None], {"c": c}), columns)
    assert isinstance(picked, tuple) and isinstance(picked[1], list) and picked[1][1] is None
    np.testing.assert_array_equal(picked[0], [[2, 2, 0], [5, 5, 3]])
    np.testing.assert_array_equal(picked[1][0], [[8, 8, 6], [11, 11, 9]])
    np.testing.assert_array_equal(picked[2]["c"], picked[1][0])
    assert smp.select_columns(None, columns) is None


def test_generate_with_a_float32_language_model_and_the_sampler():
    params = {k: v.astype(np.float32) for k, v in tiny_lm(V=6, seed=3).items()}
    cell = tanh_rnn_cell()
    ids = smp.generate(smp.lm_step(params, cell), cell.zero_state(4, 5, np.float32), np.ones((2, 5), dtype=int), 50,
                       smp.sampler(temperature=0.7, top_k=4, top_p=0.9), np.random.default_rng(0))
    assert ids.shape == (50, 5) and ids.dtype == np.int64 and 0 <= ids.min() and ids.max() < 6


@pytest.mark.parametrize("n", [1, 2, 4])
def test_ngram_step_gives_the_kneser_ney_distribution_of_the_current_sentence(n):
    from helpers.data.chars import load_char_corpus
    from helpers.ngram import NGramModel, next_word_distribution

    corpus = load_char_corpus()
    model = NGramModel(corpus, n)
    step = smp.ngram_step(model, d=0.6)
    # two sequences; the first ends a sentence (</s> = 2) and starts another
    fed = np.array([[1, 1], [9, 24], [2, 20], [20, 0], [8, 9]])
    state = np.full((n - 1, 2), 1)
    for t in range(len(fed)):
        logits, state = step(fed[t], state)
        assert logits.shape == (31, 2) and state.shape == (n - 1, 2)
        for c in range(2):
            history = fed[:t + 1, c].tolist()
            sentence = history[len(history) - history[::-1].index(2):] if 2 in history else history
            expected = next_word_distribution(model, [i for i in sentence if i != 1], d=0.6)
            np.testing.assert_allclose(np.exp(logits[:, c]), expected, rtol=1e-13, atol=0)
            assert logits[1, c] == -np.inf


def test_generate_from_a_character_ngram_model_never_predicts_the_start():
    from helpers.data.chars import load_char_corpus
    from helpers.ngram import NGramModel

    corpus = load_char_corpus()
    ids = smp.generate(smp.ngram_step(NGramModel(corpus, 5)), np.full((4, 20), 1), np.ones((1, 20), dtype=int), 200,
                       smp.sampler(temperature=0.8), np.random.default_rng(0))
    assert ids.shape == (200, 20) and not (ids == 1).any()
    assert (ids == 2).any() and (ids == 0).any()     # sentences end and words are separated


# ---------------------------------------------------------------- greedy decoding and beam search


def lstm_like_cell():
    """A cell with a tuple state (h, c), so beam search must reorder both."""
    def step(x, state, p):
        h, c = state
        c = 0.5 * c + np.tanh(p["Wx"] @ x + p["Wh"] @ h + p["b"])
        h = np.tanh(c)
        return h, (h, c)

    def unused(*args):
        raise NotImplementedError

    return Cell("lstm", ("Wx", "Wh", "b"), unused, unused, unused, unused, step,
                lambda H, N, dtype: (np.zeros((H, N), dtype), np.zeros((H, N), dtype)))


def random_model(seed, V=3, H=4):
    cell = lstm_like_cell()
    return smp.lm_step(tiny_lm(V=V, H=H, seed=seed), cell), cell.zero_state(H, 1, np.float64)


def logprob_by_loops(step, state, prompt, seq):
    """log P(seq | prompt), one step at a time, with a plain log-softmax."""
    for token in prompt:
        logits, state = step(np.array([token]), state)
    total = []
    for k, token in enumerate(seq):
        total.append(log_softmax_by_loops(list(logits[:, 0]))[token])
        if k + 1 < len(seq):
            logits, state = step(np.array([token]), state)
    return math.fsum(total)


def complete_sequences(V, max_len, end_id):
    """Every hypothesis beam search can return: end_id only at the end, and either ending in it or max_len long."""
    for L in range(1, max_len + 1):
        for seq in itertools.product(range(V), repeat=L):
            if end_id in seq[:-1]:
                continue
            if (end_id is not None and seq[-1] == end_id) or L == max_len:
                yield seq


def exhaustive_best(step, state, prompt, V, max_len, end_id=None, alpha=0.0):
    best, best_score = None, -math.inf
    for seq in complete_sequences(V, max_len, end_id):
        score = logprob_by_loops(step, state, prompt, seq) / len(seq) ** alpha
        if score > best_score:
            best, best_score = list(seq), score
    return best, logprob_by_loops(step, state, prompt, best)


def beam_by_lists(step, state, prompt, width, max_len, end_id=None, alpha=0.0):
    """Beam search with lists, as the docstring defines it: extend every live prefix by every token, keep the
    width best (ties: better parent, then lower token), finished hypotheses leave the beam."""
    for token in prompt:
        logits, state = step(np.array([token]), state)
    beams, finished = [([], 0.0, logits, state)], []
    for t in range(max_len):
        candidates = []
        for rank, (seq, score, logits, st) in enumerate(beams):
            lp = log_softmax_by_loops(list(logits[:, 0]))
            candidates += [(score + lp[v], rank, v) for v in range(len(lp))]
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        live = []
        for score, rank, v in candidates[:width]:
            seq = beams[rank][0] + [v]
            if v == end_id or t + 1 == max_len:
                finished.append((seq, score))
            else:
                logits, st = step(np.array([v]), beams[rank][3])
                live.append((seq, score, logits, st))
        beams = live
        if not beams:
            break
    best = max(finished, key=lambda f: f[1] / len(f[0]) ** alpha)
    return best


def greedy_by_loops(step, state, prompt, max_len, end_id=None):
    for token in prompt:
        logits, state = step(np.array([token]), state)
    seq = []
    while True:
        column = list(logits[:, 0])
        best = max(range(len(column)), key=lambda i: (column[i], -i))
        seq.append(best)
        if best == end_id or len(seq) == max_len:
            return seq
        logits, state = step(np.array([best]), state)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("end_id", [None, 2])
def test_greedy_decode_against_a_loop(seed, end_id):
    step, state = random_model(seed)
    ids, logprob = smp.greedy_decode(step, state, [0, 1], 6, end_id=end_id)
    expected = greedy_by_loops(step, state, [0, 1], 6, end_id)
    assert ids.dtype == np.int64 and ids.tolist() == expected
    assert logprob == pytest.approx(logprob_by_loops(step, state, [0, 1], expected), rel=1e-12)


def test_greedy_decode_breaks_ties_by_the_lower_id():
    def step(ids, state):
        return np.array([[0.0], [2.0], [2.0], [1.0]]), state

    ids, logprob = smp.greedy_decode(step, None, [0], 3)
    assert ids.tolist() == [1, 1, 1]
    assert logprob == pytest.approx(3 * math.log(math.exp(2) / (1 + 2 * math.exp(2) + math.e)), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("end_id, alpha", [(None, None), (0, None), (0, 1.0), (2, 0.7)])
def test_a_beam_as_wide_as_all_sequences_finds_the_exhaustive_best(seed, end_id, alpha):
    step, state = random_model(seed + 10)
    V, max_len = 3, 4
    ids, logprob = smp.beam_search(step, state, [1], V ** max_len, max_len, end_id=end_id,
                                   length_normalisation=alpha)
    best, best_logprob = exhaustive_best(step, state, [1], V, max_len, end_id, alpha or 0.0)
    assert ids.tolist() == best
    assert logprob == pytest.approx(best_logprob, rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("width", [1, 2, 3, 5])
@pytest.mark.parametrize("end_id, alpha", [(None, None), (1, None), (1, 1.0)])
def test_beam_search_against_beam_search_with_lists(seed, width, end_id, alpha):
    step, state = random_model(seed + 20, V=4)
    ids, logprob = smp.beam_search(step, state, [2, 0], width, 5, end_id=end_id, length_normalisation=alpha)
    seq, score = beam_by_lists(step, state, [2, 0], width, 5, end_id, alpha or 0.0)
    assert ids.tolist() == seq
    assert logprob == pytest.approx(score, rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("end_id", [None, 0, 2])
def test_beam_width_1_is_greedy(seed, end_id):
    step, state = random_model(seed + 30, V=4)
    ids, logprob = smp.beam_search(step, state, [3], 1, 7, end_id=end_id)
    greedy_ids, greedy_logprob = smp.greedy_decode(step, state, [3], 7, end_id=end_id)
    assert ids.tolist() == greedy_ids.tolist() == greedy_by_loops(step, state, [3], 7, end_id)
    assert logprob == pytest.approx(greedy_logprob, rel=1e-12)


def test_beam_width_1_is_greedy_on_ties():
    def step(ids, state):
        return np.array([[1.0], [3.0], [3.0]]), state

    assert smp.beam_search(step, None, [0], 1, 4)[0].tolist() == smp.greedy_decode(step, None, [0], 4)[0].tolist() \
        == [1, 1, 1, 1]


def test_beam_search_adds_log_probabilities_where_a_product_underflows():
    # every step: P = [0.3, 0.3, 0.4]; the best 1000-token sequence is all 2s, of probability 0.4^1000 = 1e-398,
    # which is 0 in float64: a beam of probabilities would see only ties after ~800 steps and keep token 0
    assert 0.4 ** 1000 == 0.0

    def step(ids, state):
        return np.log(np.tile([[0.3], [0.3], [0.4]], (1, len(ids)))), state

    ids, logprob = smp.beam_search(step, None, [0], 3, 1000)
    assert ids.tolist() == [2] * 1000
    assert logprob == pytest.approx(1000 * math.log(0.4), rel=1e-12)


def test_beam_search_finds_what_greedy_misses():
    # after the prompt [3], token 0 looks best (0.5 > 0.4) but is followed by a uniform choice of 4 (0.125 each);
    # token 1 is followed by token 2 for sure: beam 2 finds [1, 2] (0.4) where greedy takes [0, 0] (0.125)
    table = np.array([[0.25] * 4, [0.0, 0.0, 1.0, 0.0], [0.25] * 4, [0.5, 0.4, 0.1, 0.0]]).T   # P[next, previous]

    def step(ids, state):
        with np.errstate(divide="ignore"):
            return np.log(table[:, ids]), state

    assert smp.greedy_decode(step, None, [3], 2)[0].tolist() == [0, 0]
    ids, logprob = smp.beam_search(step, None, [3], 2, 2)
    assert ids.tolist() == [1, 2] and logprob == pytest.approx(math.log(0.4), rel=1e-14)


def test_length_normalisation_prefers_longer_hypotheses():
    # after the prompt, </s> (id 0) at once has probability 0.3, token 1 0.7; later P(</s>) = 0.1, P(1) = 0.9.
    # Raw log-probability: [0] (log 0.3 = -1.20) beats every longer hypothesis ([1, 0]: log 0.07 = -2.66, ...,
    # [1] * 30: log 0.7 + 29 log 0.9 = -3.41); per token (alpha = 1), [1] * 30 (-0.114) beats [0] (-1.20)
    def step(ids, state):
        first = np.where(state == 0, 0.3, 0.1)
        return np.log(np.vstack([first, 1 - first])), state + 1

    short, lp_short = smp.beam_search(step, np.zeros(1), [1], 4, 30, end_id=0)
    assert short.tolist() == [0] and lp_short == pytest.approx(math.log(0.3), rel=1e-14)
    longer, lp_long = smp.beam_search(step, np.zeros(1), [1], 4, 30, end_id=0, length_normalisation=1.0)
    assert longer.tolist() == [1] * 30 and lp_long == pytest.approx(math.log(0.7) + 29 * math.log(0.9), rel=1e-13)


def test_sequence_logprob_against_a_loop():
    step, state = random_model(40, V=4)
    rng = np.random.default_rng(8)
    seqs = rng.integers(0, 4, size=(6, 3))
    for n in range(3):
        assert smp.sequence_logprob(step, state, [1, 2], seqs[:, n]) == \
            pytest.approx(logprob_by_loops(step, state, [1, 2], seqs[:, n].tolist()), rel=1e-12)
    params = tiny_lm(V=4, seed=40)
    cell = lstm_like_cell()
    batch = smp.sequence_logprob(smp.lm_step(params, cell), cell.zero_state(4, 3, np.float64),
                                 np.tile([[1], [2]], (1, 3)), seqs)
    assert batch.shape == (3,)
    np.testing.assert_allclose(batch, [logprob_by_loops(step, state, [1, 2], seqs[:, n].tolist()) for n in range(3)],
                               rtol=1e-12)


# ---------------------------------------------------------------- diversity


@pytest.mark.parametrize("ids, n, distinct, repeated", [
    ([1, 2, 1, 2, 1], 1, 2 / 5, 3 / 5),
    ([1, 2, 1, 2, 1], 2, 2 / 4, 2 / 4),
    ([1, 2, 1, 2, 1], 3, 2 / 3, 1 / 3),
    ([1, 2, 3, 4], 2, 1.0, 0.0),
    ([7, 7, 7, 7, 7, 7], 2, 1 / 5, 4 / 5),
    ([5], 1, 1.0, 0.0),
])
def test_distinct_n_and_repetition_rate_on_one_sequence(ids, n, distinct, repeated):
    assert smp.distinct_n(np.array(ids), n) == pytest.approx(distinct, rel=1e-15)
    assert smp.repetition_rate(np.array(ids), n) == pytest.approx(repeated, rel=1e-15)


def test_a_batch_pools_distinct_n_and_averages_the_repetition_rate():
    # columns [1, 2, 3] and [3, 1, 2]: bigrams (1,2), (2,3) and (3,1), (1,2); none crosses from one column to the next
    batch = np.array([[1, 3], [2, 1], [3, 2]])
    assert smp.distinct_n(batch, 2) == 3 / 4
    assert smp.repetition_rate(batch, 2) == 0.0
    assert smp.distinct_n(batch, 1) == 3 / 6
    # columns [4, 4, 4] (repeats 2 of 3 unigrams) and [1, 2, 3] (none)
    assert smp.repetition_rate(np.array([[4, 1], [4, 2], [4, 3]]), 1) == pytest.approx(1 / 3)


def test_diversity_against_sets_on_random_batches():
    rng = np.random.default_rng(9)
    for n in (1, 2, 3, 4):
        ids = rng.integers(0, 4, size=(12, 5))
        grams = [[tuple(ids[t:t + n, c]) for t in range(12 - n + 1)] for c in range(5)]
        pooled = [g for column in grams for g in column]
        assert smp.distinct_n(ids, n) == pytest.approx(len(set(pooled)) / len(pooled), rel=1e-15)
        rates = [sum(g in column[:i] for i, g in enumerate(column)) / len(column) for column in grams]
        assert smp.repetition_rate(ids, n) == pytest.approx(sum(rates) / 5, rel=1e-15)


# ---------------------------------------------------------------- argument errors


P3 = np.array([0.5, 0.25, 0.25])


@pytest.mark.parametrize("call, error, message", [
    (lambda: smp.softmax_with_temperature([1.0, 2.0], 0), ValueError,
     r"^softmax_with_temperature: argument 'temperature' must be a positive finite number; received 0$"),
    (lambda: smp.softmax_with_temperature([1.0, 2.0], -1.5), ValueError, r"received -1.5$"),
    (lambda: smp.softmax_with_temperature([1.0, 2.0], np.inf), ValueError, r"positive finite number; received inf"),
    (lambda: smp.softmax_with_temperature([1.0, 2.0], float("nan")), ValueError, r"received nan$"),
    (lambda: smp.softmax_with_temperature([1.0, 2.0], True), ValueError, r"received True$"),
    (lambda: smp.softmax_with_temperature([1.0, np.nan], 1.0), ValueError,
     r"^softmax_with_temperature: argument 'scores' must be finite or -inf.*received NaN$"),
    (lambda: smp.softmax_with_temperature([1.0, np.inf], 1.0), ValueError, r"received \+inf$"),
    (lambda: smp.softmax_with_temperature([[-np.inf], [-np.inf]], 1.0), ValueError, r"received a column of -inf$"),
    (lambda: smp.softmax_with_temperature(np.zeros((2, 2, 2)), 1.0), ValueError,
     r"^softmax_with_temperature: argument 'scores' must be 1-D or 2-D; received shape \(2, 2, 2\)$"),
    (lambda: smp.softmax_with_temperature(["a"], 1.0), TypeError, r"^softmax_with_temperature: argument 'scores'"),
    (lambda: smp.top_k_filter(P3, 0), ValueError,
     r"^top_k_filter: argument 'k' must be a positive integer; received 0$"),
    (lambda: smp.top_k_filter(P3, 1.5), ValueError, r"received 1.5$"),
    (lambda: smp.top_k_filter([0.5, 0.6], 1), ValueError,
     r"^top_k_filter: argument 'probs' must sum to 1 over the tokens \(each column\); sums to 1.1"),
    (lambda: smp.top_k_filter(np.array([[0.5, 0.5], [0.5, 0.4]]), 1), ValueError, r"; column 1 sums to 0.9"),
    (lambda: smp.top_k_filter([1.5, -0.5], 1), ValueError,
     r"^top_k_filter: argument 'probs' must hold probabilities \(finite and >= 0\); received a negative value$"),
    (lambda: smp.top_k_filter(np.zeros((0, 3)), 1), ValueError, r"needs at least one token"),
    (lambda: smp.top_p_filter(P3, 0), ValueError,
     r"^top_p_filter: argument 'p' must be a number in \(0, 1\]; received 0$"),
    (lambda: smp.top_p_filter(P3, 1.01), ValueError, r"received 1.01$"),
    (lambda: smp.top_p_filter([np.nan, 1.0], 0.5), ValueError, r"received a non-finite value$"),
    (lambda: smp.sample_from(P3, 1.0), ValueError,
     r"^sample_from: argument 'u' must lie in \[0, 1\); received float 1.0"),
    (lambda: smp.sample_from(P3, -0.1), ValueError, r"must lie in \[0, 1\)"),
    (lambda: smp.sample_from(P3, np.nan), ValueError, r"must lie in \[0, 1\)"),
    (lambda: smp.sample_from(P3, [0.5]), ValueError,
     r"^sample_from: argument 'u' must have shape \(\) \(one uniform per column of probs\); received shape \(1,\)$"),
    (lambda: smp.sample_from(np.tile(P3[:, None], (1, 2)), 0.5), ValueError, r"must have shape \(2,\)"),
    (lambda: smp.sampler(temperature=0), ValueError, r"^sampler: argument 'temperature' must be a positive finite"),
    (lambda: smp.sampler(top_k=0), ValueError, r"^sampler: argument 'top_k' must be a positive integer"),
    (lambda: smp.sampler(top_p=2), ValueError, r"^sampler: argument 'top_p' must be a number in \(0, 1\]"),
    (lambda: smp.distinct_n([1, 2], 3), ValueError,
     r"^distinct_n: argument 'token_ids' must hold at least n = 3 tokens per sequence \(one n-gram\); "
     r"received shape \(2,\)$"),
    (lambda: smp.distinct_n([1.0, 2.0], 1), ValueError, r"^distinct_n: argument 'token_ids' must be an integer array"),
    (lambda: smp.repetition_rate([1, 2], 0), ValueError, r"^repetition_rate: argument 'n' must be a positive integer"),
])
def test_distribution_and_diversity_argument_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def bad_choose(logits, rng):
    return np.full(logits.shape[1], logits.shape[0])


@pytest.mark.parametrize("call, error, message", [
    (lambda: smp.generate(chain_step, np.zeros((1, 1)), [], 3, smp.argmax_choice, np.random.default_rng()),
     ValueError, r"^generate: argument 'start_ids' must be a non-empty integer array \(P,\) or \(P, N\)"),
    (lambda: smp.generate(chain_step, np.zeros((1, 1)), [0.0], 3, smp.argmax_choice, np.random.default_rng()),
     ValueError, r"^generate: argument 'start_ids'"),
    (lambda: smp.generate(lambda ids, s: (np.zeros((3, 1)), s), None, [5], 3, smp.argmax_choice,
                          np.random.default_rng()),
     ValueError, r"^generate: argument 'start_ids' must hold ids in \[0, 3\) \(V = the rows of the logits\); "
                 r"received id 5$"),
    (lambda: smp.generate(chain_step, np.zeros((1, 1)), [0], 0, smp.argmax_choice, np.random.default_rng()),
     ValueError, r"^generate: argument 'n_tokens' must be a positive integer; received 0$"),
    (lambda: smp.generate(chain_step, np.zeros((1, 1)), [0], 3, smp.argmax_choice, 0),
     TypeError, r"^generate: argument 'rng' must be a numpy.random.Generator; received int 0$"),
    (lambda: smp.generate(chain_step, np.zeros((1, 1)), [0], 3, None, np.random.default_rng()),
     TypeError, r"^generate: argument 'choose' must be a function"),
    (lambda: smp.generate("model", None, [0], 3, smp.argmax_choice, np.random.default_rng()),
     TypeError, r"^generate: argument 'step' must be a function step\(ids, state\) -> \(logits, state\)"),
    (lambda: smp.generate(chain_step, np.zeros((1, 1)), [0], 3, bad_choose, np.random.default_rng()),
     ValueError, r"^generate: argument 'choose' must return 1 integer ids in \[0, 3\), shape \(1,\)"),
    (lambda: smp.generate(lambda ids, s: (np.zeros(3), s), None, [0], 3, smp.argmax_choice, np.random.default_rng()),
     ValueError, r"^generate: argument 'step' must return logits of shape \(V, 1\) for 1 ids; returned shape \(3,\)$"),
    (lambda: smp.greedy_decode(chain_step, np.zeros((1, 1)), [[0]], 3), ValueError,
     r"^greedy_decode: argument 'start_ids' must be a non-empty integer array \(P,\)"),
    (lambda: smp.greedy_decode(chain_step, np.zeros((1, 1)), [0], 3, end_id=3), ValueError,
     r"^greedy_decode: argument 'end_id' must be None or an id in \[0, 3\); received 3$"),
    (lambda: smp.beam_search(chain_step, np.zeros((1, 1)), [0], 0, 3), ValueError,
     r"^beam_search: argument 'beam_width' must be a positive integer; received 0$"),
    (lambda: smp.beam_search(chain_step, np.zeros((1, 1)), [0], 2, 0), ValueError,
     r"^beam_search: argument 'max_len' must be a positive integer; received 0$"),
    (lambda: smp.beam_search(chain_step, np.zeros((1, 1)), [0], 2, 3, length_normalisation=-1), ValueError,
     r"^beam_search: argument 'length_normalisation' must be None or a finite number alpha >= 0; received -1$"),
    (lambda: smp.beam_search(chain_step, np.zeros((1, 1)), [0], 2, 3, end_id=True), ValueError,
     r"^beam_search: argument 'end_id' must be None or an id in \[0, 3\); received True$"),
    (lambda: smp.sequence_logprob(chain_step, np.zeros((1, 1)), [0], [[1]]), ValueError,
     r"^sequence_logprob: argument 'ids' must be a non-empty integer array \(L,\), like start_ids"),
])
def test_decoding_argument_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
