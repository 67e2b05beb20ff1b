"""Checks for the exercises of 06_generation: temperature, top-k, top-p, inverse-CDF sampling, the
generation loop, greedy decoding, beam search and distinct-n.

Randomness is never graded by one particular draw.  The distribution functions are compared as exact
(filtered) probabilities; ``sample_from`` is handed its uniforms u, the boundaries included; the
decoders run on a small fake model, a known Markov chain with a hidden state (``toy_chain``), and
``generate`` gets the check's own choice rule, which either forces every continuation of a few tokens
(so the distributions it was handed give the exact probability of everything generate can produce)
or samples by inverse CDF from prepared uniforms.  A correct answer therefore passes whatever it does
with the generator it is handed (passes it on, draws from it, spawns another one).
"""
from __future__ import annotations

import itertools

import numpy as np

from .. import sampling as ref
from ..activations import log_softmax, softmax
from ..validate import describe
from .exercises import exercise
from .framework import Case, CheckFailure, call_student, close, fmt, passed, run_check, using_reference, verify_cases

ASSIGNMENT = "06_generation"
LN2 = np.log(2.0)


# ---------------------------------------------------------------- cases of distributions


def _dyadic(rng, V, N, denominator=32):
    """(V, N) distributions in multiples of 1/denominator (exact sums), with ties and some zeros."""
    return rng.multinomial(denominator, np.ones(V) / V, size=N).T / denominator


def _columns(p):
    return p if p.ndim == 2 else p[:, None]


def _ranked(p):
    """The columns of p (V, N) sorted by decreasing probability (ties: the lower id first), and the order."""
    order = np.argsort(-p, axis=0, kind="stable")
    return np.take_along_axis(p, order, axis=0), order


def _tokens(n):
    return f"{int(n)} token" + ("" if n == 1 else "s")


def _kept(got):
    return (_columns(np.asarray(got)) > 0).sum(axis=0)


def _renormalised_hint(fn_name):
    def hint(case, expected, got):
        sums = _columns(np.asarray(got[0], dtype=float)).sum(axis=0)
        if not np.allclose(sums, 1.0) and close(np.asarray(got[0]) > 0, expected[0] > 0):
            return (f"{fn_name} kept the right tokens, but its columns sum to {fmt(sums)}, not 1: renormalise, "
                    f"dividing the kept probabilities by their sum (column by column).")
    return hint


def _batch_hint(case, expected, got):
    probs = case.args[0]
    if probs.ndim == 2 and probs.shape[1] > 1 and np.asarray(got[0]).shape == expected[0].shape:
        ok_first = close(np.asarray(got[0])[:, 0], expected[0][:, 0])
        if ok_first and not close(got[0], expected[0]):
            return ("the first column is right and a later one is not: treat each column as its own distribution "
                    "(sort, cumsum and sum along axis=0, not over the whole array).")


@exercise(ASSIGNMENT, points=10, reference=ref.softmax_with_temperature)
def check_softmax_with_temperature(softmax_with_temperature, seed: int = 0, hidden: bool = False) -> None:
    """softmax(scores / T) per column; ValueError for T <= 0."""
    name = "softmax_with_temperature"
    rng = np.random.default_rng(seed)
    cases = [Case("scores [1, 2, 3] (V,), T = 0.5", (np.array([1.0, 2.0, 3.0]), 0.5)),
             Case("scores [1, 2, 3] (V,), T = 1 (the plain softmax)", (np.array([1.0, 2.0, 3.0]), 1.0)),
             Case("random scores (5, 4), T = 2.5 (flatter)", (rng.normal(scale=2.0, size=(5, 4)), 2.5)),
             Case("random scores (6, 3), T = 0.05 (close to argmax)", (rng.normal(size=(6, 3)), 0.05)),
             Case("scores [[1, 0], [3, 0], [2, 5]], T = 1e4 (close to uniform)",
                  (np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 5.0]]), 1e4))]
    if hidden:
        cases += [Case("large scores [[1000, -1000], [999, -990], [0, -1000]], T = 0.5",
                       (np.array([[1000.0, -1000.0], [999.0, -990.0], [0.0, -1000.0]]), 0.5)),
                  Case("scores of size 20 at T = 1e-3: exp((s - max) / T) must not overflow",
                       (rng.normal(scale=20.0, size=(7, 5)), 1e-3)),
                  Case("a column with a masked token, scores [2, -inf, 1] (V,), T = 3",
                       (np.array([2.0, -np.inf, 1.0]), 3.0)),
                  Case("random scores (30, 9), T = 0.7", (rng.normal(scale=3.0, size=(30, 9)), 0.7))]

    def hint(case, expected, got):
        scores, T = case.args
        g = np.asarray(got[0])
        if np.isnan(g).any() or np.isinf(g).any():
            return ("nan or inf: exp overflowed. Subtract each column's maximum before dividing by T and taking exp: "
                    "exp((s - max s) / T) has no positive exponent, and the result is the same distribution.")
        if close(g, softmax(scores * T)):
            return "the scores were multiplied by T; the temperature divides them: softmax(scores / T)."
        if T != 1 and close(g, softmax(scores)):
            return "the temperature was ignored: divide the scores by T before the softmax."
        if scores.ndim == 2 and g.shape == scores.shape:
            e = np.exp((scores - scores.max()) / T)
            if close(g, e / e.sum()) or close(g, e / e.sum(axis=1, keepdims=True)):
                return "normalise each column (axis=0, keepdims=True): every column is one distribution."

    caught = verify_cases(softmax_with_temperature, ref.softmax_with_temperature, cases, name=name, hints=(hint,))
    for T in (0.0, -1.0):
        case = Case(f"T = {T:g}", (np.array([1.0, 2.0, 3.0]), T))
        try:
            out = call_student(softmax_with_temperature, name, case, caught)
        except CheckFailure as failure:
            if isinstance(failure.__cause__, ValueError):
                continue
            if failure.__cause__ is None:
                raise
            raise CheckFailure(f"{name}(scores, {T:g}) raised {type(failure.__cause__).__name__}: "
                               f"{failure.__cause__}\nHint: raise ValueError for a temperature T <= 0, e.g. "
                               f"`raise ValueError(f'temperature must be > 0; received {{temperature}}')`.") from None
        raise CheckFailure(f"{name}(scores, {T:g}) returned {fmt(np.asarray(out)) if out is not None else None}; it "
                           f"must raise ValueError, because a temperature T <= 0 is not one (softmax(s / T) is "
                           f"undefined at 0 and reverses the order of the tokens below 0).\nHint: start with "
                           f"`if temperature <= 0: raise ValueError(...)`.")
    passed(name, len(cases) + 2, caught)


@exercise(ASSIGNMENT, points=12, reference=ref.top_k_filter)
def check_top_k_filter(top_k_filter, seed: int = 0, hidden: bool = False) -> None:
    """Keep the k most probable tokens of each column (ties: lower id first), renormalise."""
    rng = np.random.default_rng(seed)
    cases = [Case("probs [0.4, 0.2, 0.2, 0.2] (V,), k = 2: three tokens share the 2nd place",
                  (np.array([0.4, 0.2, 0.2, 0.2]), 2)),
             Case("probs [0.1, 0.3, 0.3, 0.3] (V,), k = 2: three tokens share the 1st place",
                  (np.array([0.1, 0.3, 0.3, 0.3]), 2)),
             Case("probs [0.5, 0.125, 0.25, 0.125] (V,), k = 3: the 3rd place is shared",
                  (np.array([0.5, 0.125, 0.25, 0.125]), 3)),
             Case("dyadic probs (6, 5) with ties and zeros, k = 3", (_dyadic(rng, 6, 5), 3)),
             Case("random probs (8, 4), k = 1 (argmax)", (rng.dirichlet(np.ones(8), size=4).T, 1)),
             Case("random probs (10, 3), k = 4", (rng.dirichlet(np.ones(10), size=3).T, 4))]
    if hidden:
        cases += [Case("probs (5, 2), k = 5 = V keeps every token", (rng.dirichlet(np.ones(5), size=2).T, 5)),
                  Case("probs (4,), k = 7 > V keeps every token", (rng.dirichlet(np.ones(4)), 7)),
                  Case("dyadic probs (12, 20) with many ties, k = 5", (_dyadic(rng, 12, 20, 16), 5)),
                  Case("uniform probs [0.25] * 4, k = 3", (np.full(4, 0.25), 3))]

    def hint(case, expected, got):
        probs, k = case.args
        g = np.asarray(got[0])
        if g.shape != expected[0].shape:
            return None
        kept, want = _kept(g), _kept(expected[0])
        if (kept > want).any():
            return (f"a column keeps {_tokens(kept[kept > want][0])} where it must keep {int(want[kept > want][0])}: "
                    f"when several tokens tie at the k-th place, keep exactly k of them, the lower ids first. A "
                    f"comparison with the k-th largest probability (probs >= kth) keeps every tied token; rank the "
                    f"tokens instead: np.argsort(-probs, axis=0, kind='stable') and keep the first k ranks.")
        if (kept < want).any():
            return (f"a column keeps {_tokens(kept[kept < want][0])} where it must keep {int(want[kept < want][0])}: "
                    f"a strict comparison with the k-th largest probability (probs > kth) drops the tokens tied with "
                    f"it. Rank the tokens (np.argsort(-probs, axis=0, kind='stable')) and keep the first k ranks.")
        if close(kept, want) and not close(g > 0, expected[0] > 0):
            return ("the right number of tokens, but not the right ones: among tied tokens the lower id comes first "
                    "(np.argsort(-probs, kind='stable'); np.argsort(probs)[::-1] puts the higher ids first).")

    run_check(top_k_filter, ref.top_k_filter, cases, name="top_k_filter",
              hints=(hint, _renormalised_hint("top_k_filter"), _batch_hint))


def _nucleus_cases(rng, hidden):
    """Cases for top_p_filter, the random ones with p at least 1e-6 away from every partial mass."""
    def random_case(V, N, p):
        while True:
            probs = rng.dirichlet(np.ones(V), size=N).T
            masses = np.cumsum(_ranked(probs)[0], axis=0)
            if np.abs(masses - p).min() > 1e-6:
                return Case(f"random probs ({V}, {N}), p = {p}", (probs, p))

    cases = [Case("probs [0.5, 0.25, 0.125, 0.125] (V,), p = 0.75: two tokens reach 0.75 exactly",
                  (np.array([0.5, 0.25, 0.125, 0.125]), 0.75)),
             Case("probs [0.5, 0.25, 0.125, 0.125] (V,), p = 0.7", (np.array([0.5, 0.25, 0.125, 0.125]), 0.7)),
             Case("probs [0.125, 0.5, 0.125, 0.25] (V,), p = 0.8 (not sorted; a tie at the 3rd place)",
                  (np.array([0.125, 0.5, 0.125, 0.25]), 0.8)),
             Case("probs [0.25] * 4 (V,), p = 0.5: ties, the lower ids first", (np.full(4, 0.25), 0.5)),
             Case("probs [0.1, 0.6, 0.3] (V,), p = 0.05: the most probable token alone",
                  (np.array([0.1, 0.6, 0.3]), 0.05)),
             Case("dyadic probs (6, 5) with ties and zeros, p = 0.6", (_dyadic(rng, 6, 5), 0.6)),
             random_case(9, 4, 0.9)]
    if hidden:
        cases += [Case("dyadic probs (5, 6), p = 1.0 keeps every token of nonzero probability",
                       (_dyadic(rng, 5, 6, 8), 1.0)),
                  Case("dyadic probs (16, 30) with many ties, p = 0.5", (_dyadic(rng, 16, 30, 64), 0.5)),
                  random_case(40, 6, 0.95), random_case(3, 8, 0.3)]
    return cases


@exercise(ASSIGNMENT, points=14, reference=ref.top_p_filter)
def check_top_p_filter(top_p_filter, seed: int = 0, hidden: bool = False) -> None:
    """Keep the smallest set of most probable tokens whose mass reaches p (ties: lower id first), renormalise."""
    cases = _nucleus_cases(np.random.default_rng(seed), hidden)

    def hint(case, expected, got):
        probs, p = case.args
        g = np.asarray(got[0])
        if g.shape != expected[0].shape:
            return None
        kept, want = _kept(g), _kept(expected[0])
        columns = _columns(probs)
        in_id_order = np.cumsum(columns, axis=0) - columns < p          # mass before each token, in id order
        in_id_order[0] = True
        if close(_columns(g) > 0, in_id_order) and not close(in_id_order, _columns(expected[0]) > 0):
            return "rank the tokens by probability first (most probable first), then accumulate the mass."
        if (kept < want).any():
            n = int(np.argmax(kept < want))
            mass = float(columns[:, n][_columns(g)[:, n] > 0].sum())
            return (f"{'the' if probs.ndim == 1 else f'column {n}:'} kept tokens have mass {mass:.6g} < p = {p}: one "
                    f"token short. Keep the smallest set whose mass *reaches* p, the token that crosses p included: "
                    f"in ranked order, keep token j while the mass of the tokens *before* it is < p.")
        if (kept > want).any():
            n = int(np.argmax(kept > want))
            return (f"{'the filter' if probs.ndim == 1 else f'column {n}'} keeps {int(kept[n])} tokens, but the first "
                    f"{int(want[n])} already reach p = {p} (with equality, mass >= p, it is reached): keep the "
                    f"*smallest* set, stopping as soon as the mass reaches p.")
        if not close(g > 0, expected[0] > 0):
            return ("the right number of tokens, but not the right ones: rank by decreasing probability, ties by the "
                    "lower id first (np.argsort(-probs, axis=0, kind='stable')).")

    run_check(top_p_filter, ref.top_p_filter, cases, name="top_p_filter",
              hints=(hint, _renormalised_hint("top_p_filter"), _batch_hint))


@exercise(ASSIGNMENT, points=12, reference=ref.sample_from)
def check_sample_from(sample_from, seed: int = 0, hidden: bool = False) -> None:
    """The smallest id i with cumsum(probs)[i] > u, per column; exact at the CDF's edges."""
    rng = np.random.default_rng(seed)
    below_one = float(np.nextafter(1.0, 0.0))
    tenths = np.full(10, 0.1)                                         # float cumsum ends at 1 - 2^-53
    cases = [Case("probs [0.2, 0.5, 0.3] (V,), u = 0.6", (np.array([0.2, 0.5, 0.3]), 0.6)),
             Case("u exactly on a boundary: probs [0.25, 0.5, 0.25] (V,), u = 0.25 = cumsum[0]",
                  (np.array([0.25, 0.5, 0.25]), 0.25)),
             Case("u exactly on boundaries: probs (4, 3) columns [0.25, 0.25, 0.25, 0.25], [0.5, 0.25, 0, 0.25], "
                  "[0.125, 0.375, 0.25, 0.25], u = [0.5, 0.75, 0.125]",
                  (np.array([[0.25, 0.5, 0.125], [0.25, 0.25, 0.375], [0.25, 0.0, 0.25], [0.25, 0.25, 0.25]]),
                   np.array([0.5, 0.75, 0.125]))),
             Case("u = 0 and a first token of probability 0: probs [0, 0.5, 0.5] (V,), u = 0",
                  (np.array([0.0, 0.5, 0.5]), 0.0)),
             Case(f"u just below 1 (u = {below_one!r}) and ten tokens of 0.1, whose float cumsum ends at "
                  f"{float(np.cumsum(tenths)[-1])!r}: no cumsum exceeds u", (tenths, below_one)),
             Case("random probs (7, 6), random u (6,)", (rng.dirichlet(np.ones(7), size=6).T, rng.random(6)))]
    if hidden:
        trailing = np.append(np.full(10, 0.1), [0.0, 0.0])
        cases += [Case("u just below 1 and ten tokens of 0.1 followed by two of probability 0",
                       (trailing, below_one)),
                  Case("one token, probs [1] (V,), u = 0.999", (np.array([1.0]), 0.999)),
                  Case("dyadic probs (8, 40), u on every boundary and between",
                       (np.repeat(_dyadic(rng, 8, 8, 16), 5, axis=1),
                        np.tile(np.array([0.0, 0.25, 0.5, 0.5625, 0.9375]), 8))),
                  Case("random probs (50, 30), random u (30,)", (rng.dirichlet(np.ones(50), size=30).T, rng.random(30)))]

    def hint(case, expected, got):
        probs, u = case.args
        g = np.asarray(got[0])
        if probs.ndim == 1 and g.shape != ():
            return "for one distribution (V,) and one number u, return one id (an int), not an array."
        if g.shape != expected[0].shape:
            return None
        cdf = np.cumsum(_columns(probs), axis=0)
        u_cols = np.atleast_1d(u)
        at_or_above = np.sum(cdf < u_cols, axis=0)                 # the smallest i with cdf[i] >= u
        V = len(cdf)
        if (np.atleast_1d(g) >= V).any() or (np.atleast_1d(g) < 0).any():
            return (f"an id outside [0, {V}): when u is just below 1, the float cumsum can end below u (here "
                    f"{float(cdf[-1, 0])!r}), so no index has cumsum > u. Then return the last token of nonzero "
                    f"probability.")
        if (u_cols == 0).any() and close(np.atleast_1d(g), np.minimum(at_or_above, V - 1)) and \
                (_columns(probs)[np.atleast_1d(g), np.arange(len(u_cols))] == 0).any():
            return ("u = 0 returned a token of probability 0: the comparison must be strict, the smallest i with "
                    "cumsum[i] > u (not >=), so a token of probability 0 is never returned.")
        if close(np.atleast_1d(g), np.minimum(at_or_above, V - 1)):
            return ("u lies exactly on cumsum[i]: the sample is the smallest i with cumsum[i] > u, strictly, so "
                    "u = cumsum[i] gives i + 1 (with >=, or np.searchsorted's default side='left', it gives i).")
        if (u_cols >= cdf[-1]).any():
            return ("u is not below the float cumsum's last value (the sum of the probabilities rounds to just below "
                    "1): no index has cumsum > u, and the sample must then be the last token of nonzero probability "
                    "(np.argmax of an all-False column gives 0).")

    run_check(sample_from, ref.sample_from, cases, name="sample_from", hints=(hint,))


# ---------------------------------------------------------------- the fake model: a known Markov chain


def toy_chain(V, seed, concentration=1.0):
    """A known Markov chain with a hidden state, behind the model interface of helpers.sampling.

    P(next | prev, cur, parity): cur is the id fed now, prev the one fed before (V before the first
    step), parity the number of steps taken so far mod 2; the state is the tuple (prev (1, N), parity
    (1, N)), like the LSTM's (h, c), and the logits are log P plus an offset per (cur, parity): scores,
    not log-probabilities.  Returns (step, zero_state(N), trace): trace["fed"] lists the ids of each
    call, trace["restarted"] whether a call after the first got a fresh state (the state not carried).
    Malformed calls raise CheckFailure naming what is wrong.
    """
    rng = np.random.default_rng(seed)
    table = np.log(rng.dirichlet(np.full(V, concentration), size=(V + 1, V, 2)))
    offsets = rng.normal(scale=3.0, size=(V, 2))
    trace = {"fed": [], "restarted": []}

    def zero_state(N):
        return np.full((1, N), V, dtype=np.int64), np.zeros((1, N), dtype=np.int64)

    def step(ids, state):
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer) or ids.size == 0:
            raise CheckFailure(f"step was called with ids {describe(ids)}: it takes the ids fed at this step, "
                               f"an integer array (N,), one per sequence")
        if ids.min() < 0 or ids.max() >= V:
            raise CheckFailure(f"step was called with ids {ids.tolist()}: ids must lie in [0, {V})")
        if not isinstance(state, tuple) or len(state) != 2 or any(np.shape(s) != (1, len(ids)) for s in state):
            raise CheckFailure(f"step was called with {len(ids)} ids and the state {describe(state)}; pass the state "
                               f"you were given to the first call, then the state each call returns (here a tuple of "
                               f"two arrays (1, N), like the LSTM's (h, c); select_columns(state, columns) picks columns)")
        prev, parity = (np.asarray(s) for s in state)
        trace["restarted"].append(bool(trace["fed"]) and bool((prev == V).any()))
        trace["fed"].append(ids.copy())
        logits = table[prev[0], ids, parity[0]].T + offsets[ids, parity[0]]
        return logits, (ids[None, :].copy(), 1 - parity)

    return step, zero_state, trace


def _not_carried_hint(trace, name):
    def hint(case, expected, got):
        restarted = trace.get("student", {}).get("restarted", [])
        if any(restarted):
            k = restarted.index(True)
            return (f"the hidden state was not carried: call {k + 1} of step got the model's initial state again. "
                    f"Each call returns the new state: `logits, state = step(ids, state)`, and the next call must "
                    f"get that state.")
    return hint


def _fed_twice_hint(trace, prompt_of, generated_of):
    def hint(case, expected, got):
        fed = trace.get("student", {}).get("fed")
        prompt, generated = prompt_of(case), generated_of(got)
        P = len(prompt)
        if fed is None or len(fed) < P + 1 or np.shape(fed)[1:] != prompt.shape[1:]:
            return None
        rest = fed[P + 1:]
        if np.array_equal(fed[:P], prompt) and np.array_equal(fed[P], prompt[-1]) and \
                (generated is None or np.array_equal(rest, generated[:len(rest)])):
            return ("the prompt's last token was fed twice. Feeding the prompt token by token already gives, after "
                    "its last token, the logits of the first new token: choose from them, then feed the chosen token.")
        if P > 1 and not np.array_equal(fed[:P], prompt):
            where = "" if prompt.shape[1] == 1 else " (column 0)"
            return (f"the model was fed {fed[:P, 0].tolist()} first{where}, not the prompt {prompt[:, 0].tolist()}: "
                    f"feed every prompt token, in order, one step each.")
    return hint


def _fed(trace, n_prompt, n_tokens, out):
    """The ids fed to step as (K, N), without a final feed of the last choice (harmless, allowed)."""
    fed = np.array(trace["fed"])
    try:
        last = np.asarray(out).reshape(n_tokens, -1)[-1]
    except (ValueError, TypeError):
        return fed
    return fed[:-1] if len(fed) == n_prompt + n_tokens and np.array_equal(fed[-1], last) else fed


# ---------------------------------------------------------------- generate


@exercise(ASSIGNMENT, points=18, reference=ref.generate)
def check_generate(generate, seed: int = 0, hidden: bool = False) -> None:
    """The generation loop on a known Markov chain: every continuation forced (the distributions handed to
    choose, hence the exact distribution of the output) or sampled from prepared uniforms."""
    name = "generate"
    rng = np.random.default_rng(seed)
    trace = {}

    def run(fn, who):
        def generated(V, chain_seed, start_ids, n_tokens, choices, forced):
            __tracebackhide__ = True
            step, zero_state, record = toy_chain(V, chain_seed)
            N = 1 if start_ids.ndim == 1 else start_ids.shape[1]
            seen, raw = [], []

            def choose(logits, generator):
                __tracebackhide__ = True
                logits = np.asarray(logits)
                if logits.shape != (V, N):
                    raise CheckFailure(f"choose was called with logits {describe(logits)}; hand it the logits step "
                                       f"returned, shape (V, N) = ({V}, {N})")
                if len(seen) == n_tokens:
                    raise CheckFailure(f"choose was called more than n_tokens = {n_tokens} times: call it once per "
                                       f"generated token")
                raw.append(logits.copy())
                seen.append(softmax(logits.astype(float)))
                row = choices[len(seen) - 1]
                # (the private function: calling the exercise sample_from here would look like delegation)
                return row.copy() if forced else ref._inverse_cdf(seen[-1], row)

            out = fn(step, zero_state(N), start_ids, n_tokens, choose, np.random.default_rng(chain_seed))
            fed = _fed(record, len(start_ids), n_tokens, out) if record["fed"] else np.zeros((0, N), np.int64)
            trace[who] = {"restarted": record["restarted"], "fed": fed, "raw": raw}
            if out is None:
                return None
            return out, np.array(seen), fed
        return generated

    def forced_case(V, P, n, label):
        conts = np.array(list(itertools.product(range(V), repeat=n)), dtype=np.int64).T      # (n, V^n)
        prompts = np.tile(rng.integers(0, V, size=(P, 1)), (1, conts.shape[1]))
        return Case(f"{label}: V = {V}, the same prompt {prompts[:, 0].tolist()} in all {conts.shape[1]} columns "
                    f"(P, N) = {prompts.shape}, n_tokens = {n}, and choose returning every possible continuation "
                    f"(one per column), so the distributions handed to choose give the exact probability of each",
                    (V, int(rng.integers(1 << 30)), prompts, n, conts, True))

    def sampled_case(V, prompt_shape, n, label):
        prompt = rng.integers(0, V, size=prompt_shape)
        N = 1 if prompt.ndim == 1 else prompt.shape[1]
        uniforms = rng.random((n, N))
        if prompt.ndim == 1:
            uniforms = uniforms[:, 0]
        shape = f"one prompt {prompt.tolist()} (P,)" if prompt.ndim == 1 else f"{N} prompts as columns {prompt.shape}"
        return Case(f"{label}: V = {V}, {shape}, n_tokens = {n}, choose sampling by inverse CDF from prepared "
                    f"uniforms", (V, int(rng.integers(1 << 30)), prompt, n, uniforms, False))

    cases = [sampled_case(4, (3,), 6, "sampling"), forced_case(3, 2, 3, "exact distribution"),
             sampled_case(5, (1, 4), 5, "a batch with one-token prompts")]
    if hidden:
        cases += [forced_case(4, 4, 3, "exact distribution"), sampled_case(6, (5, 7), 12, "a larger batch"),
                  sampled_case(3, (2,), 1, "a single token"), sampled_case(7, (1,), 20, "a long sample")]

    def prompt_of(case):
        return case.args[2].reshape(len(case.args[2]), -1)

    def generated_of(got):
        ids = np.asarray(got[0])
        return ids.reshape(len(ids), -1) if ids.ndim else None

    def hint(case, expected, got):
        ids, exp_ids = np.asarray(got[0]), expected[0]
        prompt = case.args[2]
        P, n = len(prompt), case.args[3]
        if ids.shape == (P + n,) + exp_ids.shape[1:] and np.array_equal(ids[:P], prompt):
            return "return only the n_tokens generated ids, without the prompt."
        if prompt.ndim == 1 and ids.shape == (n, 1):
            return "for one prompt (P,), return the ids as (n_tokens,): take column 0 of your (n_tokens, 1) result."
        if exp_ids.ndim == 2 and ids.shape == exp_ids.shape[::-1] and exp_ids.shape[0] != exp_ids.shape[1]:
            return "time-major: row t holds the ids chosen at step t, one column per sequence: shape (n_tokens, N)."
        raw = trace.get("student", {}).get("raw", [])
        if raw and np.allclose(raw[0].sum(axis=0), 1.0) and (raw[0] >= 0).all():
            return ("choose got probabilities: hand it the logits step returned, unchanged (a choice rule applies "
                    "its own softmax, temperature and filters).")

    hints = (_not_carried_hint(trace, name), _fed_twice_hint(trace, prompt_of, generated_of), hint)
    run_check(run(generate, "student") if callable(generate) else generate, run(ref.generate, "reference"), cases,
              name=name, names=("ids", "distributions handed to choose", "ids fed to step"), hints=hints)


# ---------------------------------------------------------------- greedy decoding and beam search


def _decoder_run(fn, who, trace):
    """A function (V, chain_seed, prompt, *settings) -> fn(step, state, prompt, *settings) on a fresh toy chain."""
    def decoded(V, chain_seed, prompt, *settings):
        __tracebackhide__ = True
        step, zero_state, record = toy_chain(V, chain_seed)
        out = fn(step, zero_state(1), prompt, *settings)
        trace[who] = {"restarted": record["restarted"], "fed": np.array(record["fed"])}
        return out
    return decoded


def _logprob_hint(trace):
    def hint(case, expected, got):
        ids, lp = np.asarray(got[0]), np.asarray(got[1], dtype=float)
        if lp.shape != ():
            return "return the log-probability as one number (a float)."
        if np.isclose(lp, np.exp(expected[1]), rtol=1e-6, atol=0) and expected[1] < -1:
            return "return the log-probability of the sequence (a sum of logs), not its probability."
        if np.isclose(lp, expected[1] / LN2):
            return "that is log base 2; the course measures in nats: natural logs."
        if close(ids, expected[0]) and len(ids) > 1 and np.isclose(lp, expected[1] / len(ids)):
            return "return the total log-probability of the sequence, not the mean per token."
        if close(ids, expected[0]):
            V, chain_seed, prompt = case.args[:3]
            step, zero_state, _ = toy_chain(V, chain_seed, *case.args[6:7])       # beam cases: the concentration
            logits, state = step(prompt[:1], zero_state(1))
            for token in prompt[1:]:
                logits, state = step(np.array([token]), state)
            raw = 0.0
            for token in ids:
                raw += float(logits[token, 0])
                logits, state = step(np.array([token]), state)
            if np.isclose(lp, raw):
                return ("the ids are right but the log-probability is not: the logits are scores, not "
                        "log-probabilities. Normalise them: log_softmax(logits)[token] (log of the softmax).")
            return "the ids are right but the log-probability is not: sum log_softmax(logits)[token] over the chosen tokens."
    return hint


@exercise(ASSIGNMENT, points=8, reference=ref.greedy_decode)
def check_greedy_decode(greedy_decode, seed: int = 0, hidden: bool = False) -> None:
    """Greedy decoding on a known Markov chain: the ids and their log-probability."""
    name = "greedy_decode"
    rng = np.random.default_rng(seed)
    trace = {}
    settings = [(4, [0, 2], 6), (3, [1], 5), (5, [2, 2, 4, 0], 8)]
    if hidden:
        settings += [(8, rng.integers(0, 8, size=6).tolist(), 20), (6, [3], 1), (30, [0, 1], 40)]
    cases = [Case(f"V = {V}, prompt {prompt}, max_len {L}", (V, int(rng.integers(1 << 30)), np.array(prompt), L))
             for V, prompt, L in settings]

    def prompt_of(case):
        return case.args[2][:, None]

    def generated_of(got):
        ids = np.asarray(got[0])
        return ids[:, None] if ids.ndim == 1 else None

    hints = (_not_carried_hint(trace, name), _fed_twice_hint(trace, prompt_of, generated_of), _logprob_hint(trace))
    with using_reference(greedy_decode, generate=ref.generate, softmax_with_temperature=ref.softmax_with_temperature):
        run_check(_decoder_run(greedy_decode, "student", trace) if callable(greedy_decode) else greedy_decode,
                  _decoder_run(ref.greedy_decode, "reference", trace), cases, name=name,
                  names=("ids", "log-probability"), hints=hints)


def exhaustive_search(step, state, start_ids, max_len):
    """The most probable continuation of max_len tokens, by scoring all V^max_len of them: (ids, log P)."""
    logits, _ = step(np.asarray(start_ids[:1]), ref.select_columns(state, [0]))
    V = logits.shape[0]
    sequences = np.array(list(itertools.product(range(V), repeat=max_len)), dtype=np.int64).T   # (L, V^L)
    M = sequences.shape[1]
    scores = ref.sequence_logprob(step, ref.select_columns(state, np.zeros(M, dtype=np.int64)),
                                  np.tile(np.asarray(start_ids)[:, None], (1, M)), sequences)
    best = int(np.argmax(scores))
    return sequences[:, best], float(scores[best])


def _needs_search(V, chain_seed, prompt, L):
    """Whether the most probable continuation on this chain takes, at some step after the first, a token that is
    not the most probable one there (so that greedy choices after the first token miss it)."""
    step, zero_state, _ = toy_chain(V, chain_seed)
    best, _ = exhaustive_search(step, zero_state(1), np.asarray(prompt), L)
    logits, state = ref._feed(step, zero_state(1), np.asarray(prompt)[:, None], "_needs_search")
    for t, token in enumerate(best):
        if t > 0 and np.argmax(logits[:, 0]) != token:
            return True
        logits, state = step(np.array([token]), state)
    return False


def beam_without_reordering(step, state, start_ids, beam_width, max_len):
    """Beam search as the reference does it, except that each kept candidate continues from the state of the
    column it now occupies (the last column if there are fewer) instead of its parent's: the usual mistake."""
    logits, state = ref._feed(step, state, np.asarray(start_ids)[:, None], "beam_without_reordering")
    V = logits.shape[0]
    prefixes, scores = np.zeros((1, 0), dtype=np.int64), np.zeros(1)
    for t in range(max_len):
        candidates = (scores[None, :] + log_softmax(logits)).T.ravel()
        best = np.argsort(-candidates, kind="stable")[:beam_width]
        parents, tokens = np.divmod(best, V)
        width = len(scores)
        prefixes, scores = np.column_stack([prefixes[parents], tokens]), candidates[best]
        if t + 1 < max_len:
            logits, state = step(tokens, ref.select_columns(state, np.minimum(np.arange(len(tokens)), width - 1)))
    best = int(np.argmax(scores))
    return prefixes[best], float(scores[best])


def beam_multiplying(step, state, start_ids, beam_width, max_len):
    """Beam search with the scores as probabilities, multiplied: the usual mistake, lost once they underflow."""
    logits, state = ref._feed(step, state, np.asarray(start_ids)[:, None], "beam_multiplying")
    V = logits.shape[0]
    prefixes, scores = np.zeros((1, 0), dtype=np.int64), np.ones(1)
    for t in range(max_len):
        candidates = (scores[None, :] * softmax(logits)).T.ravel()
        best = np.argsort(-candidates, kind="stable")[:beam_width]
        parents, tokens = np.divmod(best, V)
        prefixes, scores = np.column_stack([prefixes[parents], tokens]), candidates[best]
        if t + 1 < max_len:
            logits, state = step(tokens, ref.select_columns(state, parents))
    return prefixes[0], float(scores[0])


@exercise(ASSIGNMENT, points=18, reference=ref.beam_search)
def check_beam_search(beam_search, seed: int = 0, hidden: bool = False) -> None:
    """Beam search on a known Markov chain: against exhaustive search when the beam holds every prefix, against
    greedy decoding at width 1, against the reference otherwise, and over 250 tokens whose probability underflows."""
    name = "beam_search"
    rng = np.random.default_rng(seed)
    trace = {}

    def case(kind, V, prompt, width, L, concentration=1.0):
        chain_seed = int(rng.integers(1 << 30))
        while kind == "exhaustive" and not _needs_search(V, chain_seed, prompt, L):
            chain_seed = int(rng.integers(1 << 30))
        what = {"exhaustive": f"beam_width {width} >= V^(max_len - 1) = {V ** (L - 1)}: nothing is pruned, so beam "
                              f"search must find the most probable of all {V ** L} continuations (on this chain it takes, "
                              f"after its first token, a token that is not the most probable one)",
                "greedy": "beam_width 1: beam search is greedy decoding",
                "beam": f"beam_width {width}",
                "long": f"beam_width {width} over {L} tokens of probability below 0.05 each: their product is far "
                        f"below the smallest float (1e-308)"}[kind]
        return Case(f"V = {V}, prompt {prompt}, max_len {L}, {what}",
                    (V, chain_seed, np.array(prompt), width, L, kind, concentration))

    cases = [case("exhaustive", 3, [0, 2], 9, 3), case("greedy", 4, [1], 1, 6), case("beam", 5, [3, 1], 3, 5),
             case("exhaustive", 2, [1], 16, 5), case("long", 40, [0], 3, 250, 50.0)]
    if hidden:
        cases += [case("exhaustive", 4, [2, 0, 1], 16, 3), case("beam", 6, [0], 4, 7), case("beam", 7, [5, 5], 2, 9),
                  case("greedy", 7, [2, 3], 1, 10), case("beam", 2, [0], 10, 3), case("long", 60, [3, 4], 5, 300, 80.0)]

    def run(fn, who):
        def decoded(V, chain_seed, prompt, width, L, kind, concentration):
            __tracebackhide__ = True
            step, zero_state, record = toy_chain(V, chain_seed, concentration)
            if who == "student":
                out = fn(step, zero_state(1), prompt, width, L)
            elif kind == "exhaustive":
                out = exhaustive_search(step, zero_state(1), prompt, L)
            elif kind == "greedy":
                out = ref.greedy_decode(step, zero_state(1), prompt, L)
            else:
                out = ref.beam_search(step, zero_state(1), prompt, width, L)
            trace[who] = {"restarted": record["restarted"], "fed": list(record["fed"])}
            return out
        return decoded

    def hint(case, expected, got):
        V, chain_seed, prompt, width, L, kind, concentration = case.args
        ids, lp = np.asarray(got[0]), np.asarray(got[1], dtype=float)
        if ids.shape == (len(prompt) + L,) and np.array_equal(ids[:len(prompt)], prompt):
            return "return only the max_len new ids, without the prompt."
        step, zero_state, _ = toy_chain(V, chain_seed, concentration)
        if lp.shape == () and (not np.isfinite(lp) or lp == 0.0) or \
                close(ids, beam_multiplying(step, zero_state(1), prompt, width, L)[0]) and not close(ids, expected[0]):
            return ("the scores underflowed: a product of hundreds of probabilities is below 1e-308 and rounds to 0, "
                    "after which every candidate ties. Score the prefixes by log-probabilities, added: "
                    "score(prefix + v) = score(prefix) + log_softmax(logits)[v].")
        if kind == "greedy" and not close(ids, expected[0]):
            return "with beam_width 1 only the best candidate survives each step: the result must be greedy decoding's."
        no_reordering = not close(ids, expected[0]) and \
            close(ids, beam_without_reordering(step, zero_state(1), prompt, width, L)[0])
        reorder = ("each kept candidate must continue from the state of its own parent: pass "
                   "select_columns(state, parents) to step, not the state in its old column order.")
        if lp.shape == () and kind == "exhaustive" and lp < expected[1] - 1e-9:
            return (f"your beam search returned a continuation of log-probability {float(lp):.6g}, but "
                    f"{expected[0].tolist()} has {expected[1]:.6g}: with a beam this wide nothing may be pruned. Keep "
                    f"the beam_width best of all (prefix, token) candidates at each step, and return the best at the "
                    f"end." + (" Your result is also what a beam search gives that continues each kept candidate "
                               "from the state in its old column instead of its parent's: pass "
                               "select_columns(state, parents) to step." if no_reordering else ""))
        if no_reordering:
            return reorder

    hints = (_not_carried_hint(trace, name), hint, _logprob_hint(trace))
    with using_reference(beam_search, generate=ref.generate, greedy_decode=ref.greedy_decode):
        run_check(run(beam_search, "student") if callable(beam_search) else beam_search, run(None, "reference"), cases,
                  name=name, names=("ids", "log-probability"), hints=hints)


# ---------------------------------------------------------------- diversity


@exercise(ASSIGNMENT, points=8, reference=ref.distinct_n)
def check_distinct_n(distinct_n, seed: int = 0, hidden: bool = False) -> None:
    """distinct n-grams / n-grams, inside each sequence (column), pooled over the batch."""
    rng = np.random.default_rng(seed)
    cases = [Case("ids [0, 1, 0, 1, 0, 1] (L,), n = 2", (np.array([0, 1, 0, 1, 0, 1]), 2)),
             Case("ids [3, 3, 3, 3] (L,), n = 1", (np.array([3, 3, 3, 3]), 1)),
             Case("12 random ids (L,) over 4 tokens, n = 3", (rng.integers(0, 4, size=12), 3)),
             Case("ids [[0, 1], [1, 0], [0, 1], [1, 0]] (T, N) = (4, 2), n = 2: two sequences as columns",
                  (np.array([[0, 1], [1, 0], [0, 1], [1, 0]]), 2)),
             Case("random ids (8, 5) over 3 tokens, n = 2", (rng.integers(0, 3, size=(8, 5)), 2))]
    if hidden:
        cases += [Case("ids [4, 2, 7] (L,), n = 3: a single n-gram", (np.array([4, 2, 7]), 3)),
                  Case("random ids (30, 12) over 5 tokens, n = 4", (rng.integers(0, 5, size=(30, 12)), 4)),
                  Case("random ids (6, 3) over 2 tokens, n = 1", (rng.integers(0, 2, size=(6, 3)), 1))]

    def hint(case, expected, got):
        ids, n = case.args
        value = float(np.asarray(got[0]))
        columns = ids.reshape(len(ids), -1)
        L, N = columns.shape
        distinct = expected[0] * (L - n + 1) * N
        for wrong in (ids.ravel(), ids.T.ravel()):
            grams = np.lib.stride_tricks.sliding_window_view(wrong, n)
            if ids.ndim == 2 and np.isclose(value, len(np.unique(grams, axis=0)) / len(grams)):
                return ("the n-grams ran across sequences: each column is one sequence (time-major), so take the "
                        "n-grams inside each column (along axis 0), then pool them.")
        if np.isclose(value, distinct):
            return "return the share of distinct n-grams: their number divided by the number of n-grams."
        for total in ((L - n) * N, L * N):
            if total and np.isclose(value, distinct / total):
                return f"a sequence of L tokens has L - n + 1 n-grams (here {(L - n + 1) * N} in all), not {total}."
        if n > 1 and np.isclose(value, len(np.unique(ids)) / ((L - n + 1) * N)):
            return "count distinct n-grams (tuples of n consecutive ids), not distinct ids."

    run_check(distinct_n, ref.distinct_n, cases, name="distinct_n", hints=(hint,))
