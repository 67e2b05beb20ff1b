"""helpers.checks.sampling (the checks of 06_generation): every check passes the reference with one line
and nothing on stderr, visible and hidden, for several seeds; correct answers written differently pass,
in particular generate implementations that use the random generator in any order (the checks never grade
a particular random draw); each usual mistake of the issue fails with its specific hint; the fake model
(a known Markov chain) and the exhaustive search the beam-search check trusts; the progress table of 06."""
import itertools

import numpy as np
import pytest
from conftest import assert_grading_mistake_caught, one_success_line

from helpers import sampling as smp
from helpers.activations import log_softmax, softmax
from helpers.checks import EXERCISES, CheckFailure, progress
from helpers.checks.sampling import beam_without_reordering, exhaustive_search, toy_chain
from mistakes import MISTAKES as GRADING_MISTAKES

ASSIGNMENT = "06_generation"
# wrong answers here are built on the reference: the delegation detector has its own tests
pytestmark = pytest.mark.usefixtures("without_delegation_check")

REFERENCE = {name: e.reference for name, e in EXERCISES[ASSIGNMENT].items()}
CHECKS = {name: e.check for name, e in EXERCISES[ASSIGNMENT].items()}


# ---------------------------------------------------------------- the reference passes


def test_the_exercises_in_notebook_order_add_up_to_100():
    assert list(REFERENCE) == ["softmax_with_temperature", "top_k_filter", "top_p_filter", "sample_from", "generate",
                               "greedy_decode", "beam_search", "distinct_n"]
    assert sum(e.points for e in EXERCISES[ASSIGNMENT].values()) == 100


# ---------------------------------------------------------------- correct answers written another way


def softmax_with_temperature_by_logs(scores, temperature):
    if not temperature > 0:
        raise ValueError("the temperature must be positive")
    return np.exp(log_softmax(np.asarray(scores) / temperature))


def top_k_by_loop(probs, k):
    p = np.atleast_2d(probs.T).T.astype(float)
    out = np.zeros_like(p)
    for n in range(p.shape[1]):
        keep = sorted(range(len(p)), key=lambda i: (-p[i, n], i))[:k]
        out[keep, n] = p[keep, n] / p[keep, n].sum()
    return out if probs.ndim == 2 else out[:, 0]


def top_p_by_loop(probs, p):
    q = np.atleast_2d(probs.T).T.astype(float)
    out = np.zeros_like(q)
    for n in range(q.shape[1]):
        mass, keep = 0.0, []
        for i in sorted(range(len(q)), key=lambda i: (-q[i, n], i)):
            if keep and mass >= p:
                break
            keep.append(i)
            mass += q[i, n]
        out[keep, n] = q[keep, n] / q[keep, n].sum()
    return out if probs.ndim == 2 else out[:, 0]


def sample_by_searchsorted(probs, u):
    p = np.atleast_2d(probs.T).T
    ids = []
    for column, value in zip(p.T, np.atleast_1d(u)):
        i = int(np.searchsorted(np.cumsum(column), value, side="right"))
        ids.append(min(i, int(np.flatnonzero(column)[-1])))
    return ids[0] if probs.ndim == 1 else np.array(ids)


def generate_drawing_first(step, state, start_ids, n_tokens, choose, rng):
    """Correct, but draws numbers of its own from rng before every choice and hands choose a child generator."""
    prompt = start_ids.reshape(len(start_ids), -1)
    for ids in prompt:
        logits, state = step(ids, state)
    out = []
    for t in range(n_tokens):
        rng.random(3)
        out.append(choose(logits, np.random.default_rng(rng.integers(1 << 62))))
        logits, state = step(out[-1], state)               # also feeds the last choice: harmless
    out = np.array(out)
    return out if start_ids.ndim == 2 else out[:, 0]


def generate_spawning(step, state, start_ids, n_tokens, choose, rng):
    """Correct, with a spawned generator per step, used in reverse order."""
    children = rng.spawn(n_tokens)[::-1]
    prompt = start_ids.reshape(len(start_ids), -1)
    for ids in prompt:
        logits, state = step(ids, state)
    out = np.zeros((n_tokens, prompt.shape[1]), dtype=np.int64)
    for t in range(n_tokens):
        out[t] = choose(logits, children[t])
        if t < n_tokens - 1:
            logits, state = step(out[t], state)
    return out.reshape(n_tokens, -1) if start_ids.ndim == 2 else out[:, 0]


def greedy_by_generate(step, state, start_ids, max_len):
    """Greedy decoding through sequence_logprob and generate with argmax_choice."""
    ids = smp.generate(step, state, start_ids, max_len, smp.argmax_choice, np.random.default_rng())
    return ids, smp.sequence_logprob(step, state, start_ids, ids)


def beam_with_lists(step, state, start_ids, beam_width, max_len):
    """Beam search with a list of (score, prefix, column) and one model call per step."""
    for token in start_ids:
        logits, state = step(np.array([token]), state)
    beam = [(0.0, [], 0)]
    for t in range(max_len):
        logp = log_softmax(logits)
        candidates = sorted(((score + logp[v, column], prefix + [v], column) for score, prefix, column in beam
                             for v in range(logp.shape[0])), key=lambda c: -c[0])[:beam_width]
        beam = [(score, prefix, b) for b, (score, prefix, _) in enumerate(candidates)]
        if t + 1 < max_len:
            logits, state = step(np.array([c[1][-1] for c in candidates]),
                                 smp.select_columns(state, np.array([c[2] for c in candidates])))
    score, prefix, _ = beam[0]
    return np.array(prefix), float(score)


def distinct_by_sets(token_ids, n):
    ids = token_ids.reshape(len(token_ids), -1)
    grams = [tuple(ids[i:i + n, c]) for c in range(ids.shape[1]) for i in range(len(ids) - n + 1)]
    return len(set(grams)) / len(grams)


ALTERNATIVES = [("softmax_with_temperature", softmax_with_temperature_by_logs), ("top_k_filter", top_k_by_loop),
                ("top_p_filter", top_p_by_loop), ("sample_from", sample_by_searchsorted),
                ("generate", generate_drawing_first), ("generate", generate_spawning),
                ("greedy_decode", greedy_by_generate), ("beam_search", beam_with_lists),
                ("distinct_n", distinct_by_sets)]


@pytest.mark.parametrize("name, fn", ALTERNATIVES, ids=[f.__name__ for _, f in ALTERNATIVES])
@pytest.mark.parametrize("seed, hidden", [(0, False), (3, True), (601, True)])
def test_correct_answers_written_another_way_pass(name, fn, seed, hidden, capfd):
    CHECKS[name](fn, seed=seed, hidden=hidden)
    one_success_line(capfd, name)


def generate_shuffled(order_seed):
    """The reference generate, handing choose generators drawn in a shuffled order from rng."""
    def generate(step, state, start_ids, n_tokens, choose, rng):
        generators = [np.random.default_rng(s) for s in rng.integers(1 << 62, size=n_tokens)]
        np.random.default_rng(order_seed).shuffle(generators)
        calls = iter(generators)
        return smp.generate(step, state, start_ids, n_tokens, lambda logits, _: choose(logits, next(calls)), rng)
    return generate


@pytest.mark.parametrize("order_seed", [0, 1, 2])
def test_the_reference_with_a_shuffled_use_of_the_generator_passes(order_seed, capfd):
    for seed, hidden in ((0, False), (606, True)):
        CHECKS["generate"](generate_shuffled(order_seed), seed=seed, hidden=hidden)
        one_success_line(capfd, "generate")


# ---------------------------------------------------------------- the usual mistakes


def temperature_multiplied(scores, temperature):
    return softmax(np.asarray(scores) * temperature)


def temperature_without_error(scores, temperature):
    return softmax(np.asarray(scores) / temperature) if temperature > 0 else np.full(np.shape(scores), np.nan)


def temperature_global_normalisation(scores, temperature):
    e = np.exp((scores - scores.max()) / temperature)
    return e / e.sum()


def temperature_unstable(scores, temperature):
    if temperature <= 0:
        raise ValueError("temperature <= 0")
    e = np.exp(np.asarray(scores) / temperature)
    return e / e.sum(axis=0, keepdims=True)


def top_k_by_threshold(strict):
    def top_k_filter(probs, k):
        kth = -np.sort(-probs, axis=0)[min(k, len(probs)) - 1]
        kept = np.where(probs > kth if strict else probs >= kth, probs, 0.0)
        return kept / kept.sum(axis=0, keepdims=True)
    return top_k_filter


def top_k_not_renormalised(probs, k):
    return np.where(smp.top_k_filter(probs, k) > 0, probs, 0.0)


def top_k_higher_ids_first(probs, k):
    p = np.atleast_2d(probs.T).T
    order = np.argsort(p, axis=0, kind="stable")[::-1][:k]
    keep = np.zeros(p.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=0)
    kept = np.where(keep, p, 0.0)
    kept = kept / kept.sum(axis=0)
    return kept if probs.ndim == 2 else kept[:, 0]


def top_p_masks(rule, renormalise=True, ranked=True):
    def top_p_filter(probs, p):
        q = np.atleast_2d(probs.T).T
        order = np.argsort(-q, axis=0, kind="stable") if ranked else np.tile(np.arange(len(q))[:, None], q.shape[1])
        r = np.take_along_axis(q, order, axis=0)
        cum = np.cumsum(r, axis=0)
        keep_ranked = rule(cum, cum - r, p)
        keep_ranked[0] = True
        keep = np.zeros(q.shape, dtype=bool)
        np.put_along_axis(keep, order, keep_ranked, axis=0)
        kept = np.where(keep, q, 0.0)
        if renormalise:
            kept = kept / kept.sum(axis=0)
        return kept if probs.ndim == 2 else kept[:, 0]
    return top_p_filter


top_p_one_short = top_p_masks(lambda cum, before, p: cum < p)                 # stops before the crossing token
top_p_one_too_many = top_p_masks(lambda cum, before, p: before <= p)          # goes on when the mass equals p
top_p_not_renormalised = top_p_masks(lambda cum, before, p: before < p, renormalise=False)
top_p_unsorted = top_p_masks(lambda cum, before, p: before < p, ranked=False)


def sample_with(rule):
    def sample_from(probs, u):
        p = np.atleast_2d(probs.T).T
        ids = rule(np.cumsum(p, axis=0), np.atleast_1d(u))
        return int(ids[0]) if probs.ndim == 1 else ids
    return sample_from


sample_at_or_above = sample_with(lambda cdf, u: np.minimum(np.sum(cdf < u, axis=0), len(cdf) - 1))
sample_searchsorted_right = sample_with(lambda cdf, u: np.array([np.searchsorted(c, x, side="right")
                                                                 for c, x in zip(cdf.T, u)]))
sample_argmax = sample_with(lambda cdf, u: np.argmax(cdf > u, axis=0))


def generate_with(feed_prompt, carry=True, with_prompt=False, probabilities=False):
    def generate(step, state, start_ids, n_tokens, choose, rng):
        prompt = start_ids.reshape(len(start_ids), -1)
        initial = state
        logits, state = feed_prompt(step, state, prompt)
        out = []
        for t in range(n_tokens):
            out.append(choose(softmax(logits) if probabilities else logits, rng))
            logits, state = step(out[-1], state if carry else initial)
        out = np.array(out)
        if with_prompt:
            out = np.concatenate([prompt, out])
        return out if start_ids.ndim == 2 else out[:, 0]
    return generate


def feed_all(step, state, prompt):
    for ids in prompt:
        logits, state = step(ids, state)
    return logits, state


def feed_last_twice(step, state, prompt):
    logits, state = feed_all(step, state, prompt)
    return step(prompt[-1], state)


def feed_only_last(step, state, prompt):
    return step(prompt[-1], state)


def generate_batch_first(step, state, start_ids, n_tokens, choose, rng):
    out = smp.generate(step, state, start_ids, n_tokens, choose, rng)
    return out.T if out.ndim == 2 else out


def greedy_with(logprob="log_softmax", carry=True, twice=False):
    def greedy_decode(step, state, start_ids, max_len):
        initial = state
        for token in start_ids:
            logits, state = step(np.array([token]), state)
        if twice:
            logits, state = step(np.array([start_ids[-1]]), state)
        ids, total = [], 0.0
        for _ in range(max_len):
            best = int(np.argmax(logits[:, 0]))
            ids.append(best)
            total += {"log_softmax": log_softmax(logits)[best, 0], "raw": logits[best, 0],
                      "base2": log_softmax(logits)[best, 0] / np.log(2)}[logprob]
            logits, state = step(np.array([best]), state if carry else initial)
        return np.array(ids), float(total)
    return greedy_decode


def greedy_probability(step, state, start_ids, max_len):
    ids, lp = smp.greedy_decode(step, state, start_ids, max_len)
    return ids, float(np.exp(lp))


def beam_multiplying(step, state, start_ids, beam_width, max_len):
    """Beam search with probabilities multiplied: right on short sequences, lost once the product underflows."""
    for token in start_ids:
        logits, state = step(np.array([token]), state)
    V = logits.shape[0]
    prefixes, scores = np.zeros((1, 0), dtype=np.int64), np.ones(1)
    for t in range(max_len):
        candidates = (scores[None, :] * softmax(logits)).T.ravel()
        best = np.argsort(-candidates, kind="stable")[:beam_width]
        parents, tokens = np.divmod(best, V)
        prefixes, scores = np.column_stack([prefixes[parents], tokens]), candidates[best]
        logits, state = step(tokens, smp.select_columns(state, parents))
    with np.errstate(divide="ignore"):
        return prefixes[0], float(np.log(scores[0]))


def beam_mean_logprob(step, state, start_ids, beam_width, max_len):
    ids, lp = smp.beam_search(step, state, start_ids, beam_width, max_len)
    return ids, lp / len(ids)


def beam_returning_the_prompt(step, state, start_ids, beam_width, max_len):
    ids, lp = smp.beam_search(step, state, start_ids, beam_width, max_len)
    return np.concatenate([start_ids, ids]), lp


def beam_keeping_the_top_token_of_each(step, state, start_ids, beam_width, max_len):
    """Prunes to the best token of each beam, then the best beams: loses when the second token of a beam wins."""
    for token in start_ids:
        logits, state = step(np.array([token]), state)
    prefixes, scores = np.zeros((1, 0), dtype=np.int64), np.zeros(1)
    for t in range(max_len):
        logp = log_softmax(logits)
        if t == 0:
            tokens = np.argsort(-logp[:, 0], kind="stable")[:beam_width]
            parents = np.zeros(len(tokens), dtype=np.int64)
        else:
            tokens, parents = np.argmax(logp, axis=0), np.arange(logp.shape[1])
        prefixes = np.column_stack([prefixes[parents], tokens])
        scores = scores[parents] + logp[tokens, parents]
        logits, state = step(tokens, smp.select_columns(state, parents))
    best = int(np.argmax(scores))
    return prefixes[best], float(scores[best])


def distinct_flat(token_ids, n):
    grams = np.lib.stride_tricks.sliding_window_view(np.asarray(token_ids).T.ravel(), n)
    return len(np.unique(grams, axis=0)) / len(grams)


def distinct_off_by_one(token_ids, n):
    ids = np.asarray(token_ids).reshape(len(token_ids), -1)
    grams = np.lib.stride_tricks.sliding_window_view(ids, n, axis=0).reshape(-1, n)
    return len(np.unique(grams, axis=0)) / ((len(ids) - n) * ids.shape[1])


def distinct_count(token_ids, n):
    ids = np.asarray(token_ids).reshape(len(token_ids), -1)
    return float(len(np.unique(np.lib.stride_tricks.sliding_window_view(ids, n, axis=0).reshape(-1, n), axis=0)))


def distinct_tokens(token_ids, n):
    ids = np.asarray(token_ids).reshape(len(token_ids), -1)
    return len(np.unique(ids)) / ((len(ids) - n + 1) * ids.shape[1])


MISTAKES = [
    # (exercise, wrong implementation, words the message must contain, caught by the visible check)
    ("softmax_with_temperature", temperature_multiplied,
     ["Hint: the scores were multiplied by T; the temperature divides them"], True),
    ("softmax_with_temperature", temperature_without_error,
     ["softmax_with_temperature(scores, 0) returned", "it must raise ValueError",
      "Hint: start with `if temperature <= 0: raise ValueError(...)`"], True),
    ("softmax_with_temperature", temperature_global_normalisation,
     ["Hint: normalise each column (axis=0, keepdims=True)"], True),
    ("softmax_with_temperature", temperature_unstable, ["Hint: nan or inf: exp overflowed. Subtract each column's"],
     False),
    ("top_k_filter", top_k_by_threshold(strict=False),
     ["on case: probs [0.4, 0.2, 0.2, 0.2] (V,), k = 2", "Hint: a column keeps 4 tokens where it must keep 2",
      "keep exactly k of them, the lower ids first"], True),
    ("top_k_filter", top_k_by_threshold(strict=True),
     ["Hint: a column keeps 1 token where it must keep 2", "a strict comparison with the k-th largest probability"],
     True),
    ("top_k_filter", top_k_not_renormalised, ["Hint: top_k_filter kept the right tokens", "renormalise"], True),
    ("top_k_filter", top_k_higher_ids_first, ["Hint: the right number of tokens, but not the right ones: among tied "
                                              "tokens the lower id comes first"], True),
    ("top_p_filter", top_p_one_short,
     ["on case: probs [0.5, 0.25, 0.125, 0.125] (V,), p = 0.75", "kept tokens have mass 0.5 < p = 0.75: one token short"],
     True),
    ("top_p_filter", top_p_one_too_many, ["on case: probs [0.5, 0.25, 0.125, 0.125] (V,), p = 0.75",
                                          "keeps 3 tokens, but the first 2 already reach p = 0.75"], True),
    ("top_p_filter", top_p_not_renormalised, ["Hint: top_p_filter kept the right tokens", "renormalise"], True),
    ("top_p_filter", top_p_unsorted, ["Hint: rank the tokens by probability first"], True),
    ("sample_from", sample_at_or_above,
     ["on case: u exactly on a boundary", "expected 1, received 0", "Hint: u lies exactly on cumsum[i]"], True),
    ("sample_from", sample_searchsorted_right, ["on case: u just below 1", "Hint: an id outside [0, 10)",
                                                "return the last token of nonzero probability"], True),
    ("sample_from", sample_argmax, ["on case: u just below 1", "expected 9, received 0",
                                    "Hint: u is not below the float cumsum's last value"], True),
    ("generate", generate_with(feed_all, carry=False), ["Hint: the hidden state was not carried: call 4 of step got the model's initial state again"],
     True),
    ("generate", generate_with(feed_last_twice), ["Hint: the prompt's last token was fed twice"], True),
    ("generate", generate_with(feed_only_last), ["Hint: the model was fed [2, 1, 0] first, not the prompt [3, 2, 2]: feed every prompt token, in order"],
     True),
    ("generate", generate_with(feed_all, with_prompt=True), ["Hint: return only the n_tokens generated ids"], True),
    ("generate", generate_with(feed_all, probabilities=True), ["Hint: choose got probabilities"], True),
    ("generate", generate_batch_first, ["Hint: time-major: row t holds the ids chosen at step t"], True),
    ("greedy_decode", greedy_with(logprob="raw"),
     ["ids is correct but log-probability is not", "Hint: the ids are right but the log-probability is not: the "
      "logits are scores"], True),
    ("greedy_decode", greedy_with(carry=False), ["Hint: the hidden state was not carried"], True),
    ("greedy_decode", greedy_with(twice=True), ["Hint: the prompt's last token was fed twice"], True),
    ("greedy_decode", greedy_with(logprob="base2"), ["Hint: that is log base 2"], True),
    ("greedy_decode", greedy_probability, ["Hint: return the log-probability of the sequence (a sum of logs)"], True),
    ("beam_search", beam_multiplying, ["on case: V = 40, prompt [0], max_len 250", "Hint: the scores underflowed",
                                       "score(prefix + v) = score(prefix) + log_softmax(logits)[v]"], True),
    ("beam_search", beam_without_reordering, ["from the state in its old column instead of its parent's: pass "
                                              "select_columns(state, parents) to step"], True),
    ("beam_search", beam_mean_logprob, ["Hint: return the total log-probability of the sequence, not the mean"], True),
    ("beam_search", beam_returning_the_prompt, ["Hint: return only the max_len new ids"], True),
    ("beam_search", beam_keeping_the_top_token_of_each, ["nothing is pruned", "Hint: your beam search returned a "
                                                         "continuation of log-probability"], True),
    ("distinct_n", distinct_flat, ["Hint: the n-grams ran across sequences"], True),
    ("distinct_n", distinct_off_by_one, ["Hint: a sequence of L tokens has L - n + 1 n-grams"], True),
    ("distinct_n", distinct_count, ["Hint: return the share of distinct n-grams"], True),
    ("distinct_n", distinct_tokens, ["Hint: count distinct n-grams (tuples of n consecutive ids), not distinct ids"],
     True),
]


@pytest.mark.parametrize("name, wrong, words, shown", MISTAKES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MISTAKES)])
@pytest.mark.parametrize("hidden", [False, True])
def test_a_usual_mistake_fails_with_its_hint(name, wrong, words, shown, hidden, capfd):
    if not shown and not hidden:
        CHECKS[name](wrong)                                  # only the hidden tests catch it
        one_success_line(capfd, name)
        return
    with pytest.raises(CheckFailure) as info:
        CHECKS[name](wrong, hidden=hidden)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"
    out, err = capfd.readouterr()
    assert "✓" not in out and err == ""


def test_every_exercise_has_a_usual_mistake():
    assert {name for name, *_ in MISTAKES} == set(REFERENCE)


@pytest.mark.parametrize("mistake", sorted(GRADING_MISTAKES[ASSIGNMENT]))
def test_the_wrong_answers_of_the_grading_tests(mistake, capfd):
    grade_id, source, shown = GRADING_MISTAKES[ASSIGNMENT][mistake]
    ns = {"np": np, "log_softmax": log_softmax, "select_columns": smp.select_columns}
    exec(source, ns)
    assert_grading_mistake_caught(CHECKS[grade_id], grade_id, ns[grade_id], shown, capfd, 600, hidden_match="Hint: ")


# ---------------------------------------------------------------- the fake model and the oracle of beam search


def test_toy_chain_is_the_documented_markov_chain():
    V = 3
    step, zero_state, trace = toy_chain(V, seed=5)
    ids = np.array([0, 2, 1])
    logits, state = step(ids, zero_state(3))
    rng = np.random.default_rng(5)
    table = rng.dirichlet(np.ones(V), size=(V + 1, V, 2))
    np.testing.assert_allclose(softmax(logits), table[V, ids, 0].T, rtol=1e-12)     # prev = start, parity 0
    assert not np.allclose(logits, np.log(table[V, ids, 0].T)), "the logits are scores, not log-probabilities"
    logits, state = step(np.array([1, 1, 0]), state)
    np.testing.assert_allclose(softmax(logits), table[ids, [1, 1, 0], 1].T, rtol=1e-12)
    np.testing.assert_array_equal(state[0], [[1, 1, 0]])
    np.testing.assert_array_equal(state[1], [[0, 0, 0]])
    assert trace["restarted"] == [False, False]
    step(np.array([2, 2, 2]), zero_state(3))
    assert trace["restarted"] == [False, False, True]
    np.testing.assert_array_equal(np.array(trace["fed"]), [[0, 2, 1], [1, 1, 0], [2, 2, 2]])


@pytest.mark.parametrize("ids, state, message", [
    (np.array([[0, 1]]), None, r"step was called with ids array of shape \(1, 2\)"),
    (np.array([0.0, 1.0]), None, r"step was called with ids array of shape \(2,\) and dtype float64"),
    (np.array([0, 5]), None, r"ids must lie in \[0, 3\)"),
    (np.array([0, 1]), "zero1", r"step was called with 2 ids and the state tuple"),
    (np.array([0, 1]), "none", r"step was called with 2 ids and the state None"),
])
def test_toy_chain_says_what_is_wrong_with_a_call(ids, state, message):
    step, zero_state, _ = toy_chain(3, seed=0)
    state = {None: zero_state(2), "zero1": zero_state(1), "none": None}[state]
    with pytest.raises(CheckFailure, match=message):
        step(ids, state)


@pytest.mark.parametrize("V, prompt, L", [(3, [0, 2], 3), (2, [1], 5), (4, [3], 2)])
def test_exhaustive_search_against_a_loop_over_every_sequence(V, prompt, L):
    step, zero_state, _ = toy_chain(V, seed=V + L)
    best, best_lp = None, -np.inf
    for seq in itertools.product(range(V), repeat=L):
        lp = smp.sequence_logprob(step, zero_state(1), np.array(prompt), np.array(seq))
        if lp > best_lp:
            best, best_lp = seq, lp
    ids, lp = exhaustive_search(step, zero_state(1), np.array(prompt), L)
    assert tuple(ids) == best and lp == pytest.approx(best_lp, rel=1e-12)
    # the reference's beam search agrees when nothing is pruned
    ref_ids, ref_lp = smp.beam_search(step, zero_state(1), np.array(prompt), V ** (L - 1), L)
    assert tuple(ref_ids) == best and ref_lp == pytest.approx(best_lp, rel=1e-12)


def test_the_long_beam_case_underflows_a_product_of_probabilities():
    step, zero_state, _ = toy_chain(40, seed=1, concentration=50.0)
    ids, lp = smp.beam_search(step, zero_state(1), np.array([0]), 3, 250)
    assert lp < np.log(np.finfo(float).tiny) and np.exp(lp) == 0.0


def test_beam_without_reordering_differs_from_beam_search():
    step, zero_state, _ = toy_chain(5, seed=2)
    right = smp.beam_search(step, zero_state(1), np.array([3, 1]), 3, 5)
    wrong = beam_without_reordering(step, zero_state(1), np.array([3, 1]), 3, 5)
    assert not np.array_equal(right[0], wrong[0])


# ---------------------------------------------------------------- generic failures and progress


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


def test_changing_the_probabilities_in_place_is_caught():
    def top_k_in_place(probs, k):
        out = smp.top_k_filter(probs, k)
        probs[...] = out
        return out

    with pytest.raises(CheckFailure, match=r"^top_k_filter changed the values of an array it was given"):
        CHECKS["top_k_filter"](top_k_in_place)


def test_calling_choose_too_often_is_named():
    def generate(step, state, start_ids, n_tokens, choose, rng):
        out = smp.generate(step, state, start_ids, n_tokens, choose, rng)
        choose(step(np.asarray(start_ids).reshape(len(start_ids), -1)[-1], state)[0], rng)
        return out

    with pytest.raises(CheckFailure, match=r"^choose was called more than n_tokens = 6 times"):
        CHECKS["generate"](generate)


def test_progress_of_06(capfd):
    rows = progress(ASSIGNMENT, dict(REFERENCE))
    assert [r[0] for r in rows] == list(REFERENCE) and all(r[2] == "passes" for r in rows)
    rows = progress(ASSIGNMENT, {**REFERENCE, "beam_search": beam_multiplying, "distinct_n": not_implemented})
    status = {name: s for name, _, s, _ in rows}
    assert status["beam_search"] == "fails" and status["distinct_n"] == "not started"
    assert capfd.readouterr() == ("", "")
