"""Generating text with a language model (lecture item 11): sample a token from the model's
distribution, feed it back in as the next input, repeat; and the decoding rules built on that loop.

Distributions
-------------
Every distribution function takes one distribution (V,) or a batch of them as columns (V, N),
as everywhere in the course, and keeps the dtype it is given.  *probs* are finite, >= 0 and
each column sums to 1 within sqrt(eps) of its dtype (1.5e-8 in float64, 3.5e-4 in float32).

- ``softmax_with_temperature(scores, T)`` = softmax(scores / T): T -> 0 approaches argmax,
  T = 1 is the softmax, T -> inf approaches the uniform distribution.
- ``top_k_filter(probs, k)``, ``top_p_filter(probs, p)`` (nucleus sampling, Holtzman et al. 2020):
  keep the most probable tokens, set the others to 0, renormalise.  Both rank tokens by
  probability, ties broken by the lower id (a stable sort of -probs).
- ``sample_from(probs, u)``: inverse-CDF sampling from given uniforms, so a result is exact and gradable.

The model interface
-------------------
A language model is seen through one function, its *step*::

    logits, state = step(ids, state)

``ids`` (N,) int: the token fed at this step in each of N sequences; ``state``: what the model
carries from step to step (None, an array whose last axis is the batch, such as h (H, N), or a
tuple, list or dict of them, such as the LSTM's (h, c)); ``logits`` (V, N): the scores of the
next token, one column per sequence.  A step returns a new state and leaves its arguments alone.
``lm_step(params, cell)`` builds the step of a recurrent language model from a helpers.cells.Cell::

    x_t = E[:, ids]   (D, N),   h_t, state = cell.step(x_t, state, params),   logits = U h_t + b2   (V, N)

and ``ngram_step(model)`` the step of an n-gram model (the state: the last n-1 ids).

A *choice rule* picks the next tokens from the logits: ``choose(logits, rng) -> ids (N,)``.
(``generate`` hands choose whatever the step returns, so a model that returns probabilities works
with a choice rule that takes probabilities, e.g. a known Markov chain with ``sample_from``.)
``sampler(temperature, top_k, top_p)`` builds the sampling rules (one ``rng.random(N)`` per step);
``argmax_choice`` is greedy.

Decoding
--------
``generate`` is the lecture's loop: the prompt (P >= 1 tokens) is fed through the model with the
state carried from step to step; the logits after its last token give the first choice; every chosen
token is fed back in to give the next logits.  Each prompt token is fed exactly once, and the last
chosen token is not fed (n_tokens choices take P + n_tokens - 1 steps).  ``greedy_decode`` always
takes the most probable token; ``beam_search`` keeps the ``beam_width`` best prefixes by summed
log-probability (never a product of probabilities, which underflows); ``sequence_logprob`` scores a
given continuation.  ``distinct_n`` and ``repetition_rate`` measure diversity.
"""
from __future__ import annotations

import numpy as np

from .activations import log_softmax
from .cells import CELLS, get_cell
from .ngram import BOS, EOS
from .validate import as_float_array, describe, require_keys, require_positive_int, require_positive_number


# ---------------------------------------------------------------- distributions


def _columns(arr):
    """arr as (V, N) and a function that gives a (V, N) result arr's own shape back."""
    if arr.ndim == 1:
        return arr[:, None], lambda out: out[:, 0]
    return arr, lambda out: out


def _scores(scores, fn):
    s = as_float_array(scores, "scores", fn, ndim=(1, 2))
    if s.shape[0] == 0:
        raise ValueError(f"{fn}: argument 'scores' needs at least one token (row); received shape {s.shape}")
    problem = "NaN" if np.isnan(s).any() else "+inf" if np.isposinf(s).any() else \
        "a column of -inf" if s.size and np.isneginf(s.max(axis=0)).any() else None
    if problem:
        raise ValueError(f"{fn}: argument 'scores' must be finite or -inf, with a finite score in every column; "
                         f"received {problem}")
    return s


def _distribution(probs, fn, name="probs"):
    """probs as a float array (V,) or (V, N), after checking that every column is a distribution."""
    p = as_float_array(probs, name, fn, ndim=(1, 2))
    if p.shape[0] == 0:
        raise ValueError(f"{fn}: argument '{name}' needs at least one token (row); received shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{fn}: argument '{name}' must hold probabilities (finite and >= 0); received "
                         f"{'a negative value' if (p < 0).any() else 'a non-finite value'}")
    sums = p.sum(axis=0)
    bad = np.abs(sums - 1) > np.sqrt(np.finfo(p.dtype).eps)
    if np.any(bad):
        where = "" if p.ndim == 1 else f"column {int(np.argmax(bad))} "
        raise ValueError(f"{fn}: argument '{name}' must sum to 1 over the tokens (each column); {where}sums to "
                         f"{float(np.ravel(sums)[np.argmax(bad)])!r}")
    return p


def softmax_with_temperature(scores, temperature):
    """softmax(scores / T) over each column: P(w) = exp(s_w / T) / sum_v exp(s_v / T).

    scores: (V,) or (V, N) logits (-inf allowed: that token gets probability 0);  temperature T > 0.
    T -> 0 approaches argmax (ties share the mass equally), T = 1 is the softmax, T -> inf approaches
    the uniform distribution over the tokens with finite scores.  Computed as exp((s - max s) / T), so
    no exponent is positive: stable for scores of any size and for any T.  Same shape and dtype.
    Errors: ValueError for T <= 0, T not finite, and NaN or +inf scores.
    """
    fn = "softmax_with_temperature"
    T = require_positive_number(temperature, "temperature", fn)
    return _tempered(_scores(scores, fn), T)


def _tempered(s, T):
    e = np.exp((s - s.max(axis=0, keepdims=True)) / T)
    return e / e.sum(axis=0, keepdims=True)


def _ranks(p):
    """rank[i, n] = position of token i when column n is sorted by decreasing probability, ties by the
    lower id first (0 = most probable); with the sorted probabilities and the order."""
    order = np.argsort(-p, axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(p.shape[0])[:, None], axis=0)
    return rank, np.take_along_axis(p, order, axis=0)


def _renormalised(p, keep):
    kept = np.where(keep, p, 0)
    return kept / kept.sum(axis=0, keepdims=True)


def top_k_filter(probs, k):
    """Keep the k most probable tokens of each column, set the others to 0 and renormalise.

    probs: (V,) or (V, N);  k: integer >= 1 (k >= V keeps every token).  Same shape and dtype.
    Ties: tokens are ranked by decreasing probability, equal probabilities by the lower id first,
    and the first k ranks are kept, so exactly min(k, V) tokens survive even when the k-th
    probability is shared (probs [0.4, 0.2, 0.2, 0.2], k = 2 -> [2/3, 1/3, 0, 0]).
    """
    fn = "top_k_filter"
    k = require_positive_int(k, "k", fn)
    p, restore = _columns(_distribution(probs, fn))
    return restore(_top_k(p, k))


def _top_k(p, k):
    rank, _ = _ranks(p)
    return _renormalised(p, rank < k)


def _require_mass(p, name, fn):
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 < p <= 1:
        raise ValueError(f"{fn}: argument '{name}' must be a number in (0, 1]; received {p!r}")


def top_p_filter(probs, p):
    """Nucleus filter (Holtzman et al. 2020): keep the smallest set of most probable tokens whose
    probability mass reaches p, set the others to 0 and renormalise.

    probs: (V,) or (V, N);  p in (0, 1].  Same shape and dtype.
    Tokens are ranked by decreasing probability, ties by the lower id first (as top_k_filter).
    With S_m the mass of the m first ranked tokens, the kept set is the first m ranks for the
    smallest m with S_m >= p ("reaches" includes equality: [0.5, 0.3, 0.2] with p = 0.8 keeps two
    tokens; [0.25] * 4 with p = 0.5 keeps ids 0 and 1).  The most probable token is always kept.
    Rounding: S_m is a float sum, so "S_m >= p" is tested as S_m >= p - V eps (eps of the dtype),
    the most a sum of V terms can lose; so ten tokens of 0.1 reach p = 0.8 with eight tokens,
    although their float64 sum is 0.7999999999999999.  p = 1 keeps every token of nonzero probability
    (the filter is off), however small its probability and whatever the dtype.
    """
    fn = "top_p_filter"
    _require_mass(p, "p", fn)
    q, restore = _columns(_distribution(probs, fn))
    return restore(_top_p(q, p))


def _top_p(q, p):
    rank, ordered = _ranks(q)
    mass_before = np.zeros_like(ordered)                # row j: S_j, the mass of the ranks before j
    mass_before[1:] = np.cumsum(ordered, axis=0)[:-1]
    reached = p - q.shape[0] * np.finfo(q.dtype).eps if p < 1 else np.inf     # p = 1: the filter is off
    keep_ranked = mass_before < reached
    keep_ranked[0] = True
    return _renormalised(q, np.take_along_axis(keep_ranked, rank, axis=0))


def sample_from(probs, u):
    """Inverse-CDF sampling: the smallest id i with cumsum(probs)[i] > u, in each column.

    probs: (V,) with u a number in [0, 1) -> int;  (V, N) with u (N,) -> ids (N,) int64.
    With uniforms u ~ U[0, 1) the id is i with probability probs[i].  Exact at the boundaries:
    u = cumsum[i] gives i + 1 (the comparison is strict), so u = 0 gives the first token of
    nonzero probability and a token of probability 0 is never returned.  The float cumsum may end
    just below 1 (e.g. 1 - 1e-16) and so below a u just below 1; then no index qualifies, and the
    result is the last token of nonzero probability (u is treated as falling in the last interval).
    """
    fn = "sample_from"
    p = _distribution(probs, fn)
    u_arr = as_float_array(u, "u", fn)
    expected = () if p.ndim == 1 else (p.shape[1],)
    if u_arr.shape != expected:
        raise ValueError(f"sample_from: argument 'u' must have shape {expected} (one uniform per column of probs); "
                         f"received shape {u_arr.shape}")
    if not np.all((u_arr >= 0) & (u_arr < 1)):
        raise ValueError(f"sample_from: argument 'u' must lie in [0, 1); received {describe(u)}")
    ids = _inverse_cdf(_columns(p)[0], u_arr)
    return int(ids[0]) if p.ndim == 1 else ids


def _inverse_cdf(p, u):
    """p (V, N), u (N,) or () -> ids (N,)."""
    first_above = np.sum(np.cumsum(p, axis=0) <= u, axis=0)                # the cdf is nondecreasing
    last_nonzero = p.shape[0] - 1 - np.argmax(p[::-1] > 0, axis=0)
    return np.minimum(first_above, last_nonzero).astype(np.int64)


# ---------------------------------------------------------------- choice rules and the model step


def sampler(temperature=1.0, top_k=None, top_p=None):
    """A choice rule ``choose(logits, rng) -> ids (N,)``: softmax with temperature, then top-k (if given),
    then top-p (if given), then ``sample_from`` with one ``rng.random(N)``."""
    fn = "sampler"
    require_positive_number(temperature, "temperature", fn)
    if top_k is not None:
        require_positive_int(top_k, "top_k", fn)
    if top_p is not None:
        _require_mass(top_p, "top_p", fn)

    def choose(logits, rng):
        probs = _tempered(_columns(_scores(logits, "sampler"))[0], temperature)
        if top_k is not None:
            probs = _top_k(probs, top_k)
        if top_p is not None:
            probs = _top_p(probs, top_p)
        return _inverse_cdf(probs, rng.random(probs.shape[1]))

    return choose


def argmax_choice(logits, rng=None):
    """The greedy choice rule: the id of the highest score in each column (ties: the lower id).  (V, N) -> (N,)."""
    return np.argmax(np.asarray(logits), axis=0)


def lm_step(params, cell):
    """The step function of a recurrent language model: ids (N,), state -> (logits (V, N), state).

    params: {E (D, V), the cell's parameters, U (V, H), b2 (V, 1)};  cell: a helpers.cells.Cell or
    its name.  x = E[:, ids], (h, state) = cell.step(x, state, params), logits = U h + b2.
    The state starts as ``cell.zero_state(H, N, dtype)``.  For the LSTM and the GRU the gates' weights
    are checked and stacked once, here, not at every step as their step functions do (the same
    arithmetic; generating one character at a time is then 5 times faster).
    """
    cell = get_cell(cell)
    require_keys(params, ("E", "U", "b2", *cell.keys), "params", "lm_step")
    E, U, b2 = params["E"], params["U"], params["b2"]
    cell_step = _stacked_step(cell, params)

    def step(ids, state):
        h, state = cell_step(E[:, ids], state)
        return U @ h + b2, state

    return step


def _stacked_step(cell, params):
    """cell.step(x, state, params) as a function of (x, state), the gated cells' weights stacked once."""
    if cell.name not in ("lstm", "gru") or cell is not CELLS[cell.name]:
        return lambda x, state: cell.step(x, state, params)
    from . import gru, lstm
    from .recurrent import check_params, sigmoid_tanh_, stack
    gates = lstm.GATES if cell.name == "lstm" else gru.GATES
    _, H, arrays = check_params(params, gates, "lm_step")
    W, Ux, b = stack(arrays, gates, np.result_type(*arrays.values()))

    def lstm_step(x, state):
        h, c = state
        a = Ux @ x
        a += b
        a += W @ h
        c_new, tanh_c, h_new = (np.empty_like(c, dtype=a.dtype) for _ in range(3))
        lstm._cell_forward(a, c, c_new, tanh_c, h_new)
        return h_new, (h_new, c_new)

    def gru_step(h_prev, x):
        a = Ux @ x
        a += b
        zr, candidate = a[:2 * H], a[2 * H:]
        zr += W[:2 * H] @ h_prev
        sigmoid_tanh_(zr, 2 * H)
        z, r = zr[:H], zr[H:]
        candidate += W[2 * H:] @ (r * h_prev)             # the reset gate before W_h, as helpers.gru
        np.tanh(candidate, out=candidate)
        h = (candidate - h_prev) * z + h_prev             # h_{t-1} + z (h~ - h_{t-1}), as helpers.gru
        return h, h

    return lstm_step if cell.name == "lstm" else lambda x, state: gru_step(state, x)


def ngram_step(model, d=0.75):
    """The step function of an n-gram model (helpers.ngram.NGramModel), by its interpolated Kneser-Ney
    estimate with discount d: ids (N,), state -> (logits (V, N), state), logits = log P(next | context).

    The state is the context, the last n-1 ids of each sequence, (n-1, N) int64; it starts as n-1 <s>
    (id 1): ``np.full((n - 1, N), 1)``.  <s> is never predicted (logit -inf).  Sentences never contain
    </s> in a context, so a fed </s> (id 2) starts a new sentence: the context becomes n-1 <s> again.
    """
    n, V = model.n, model.V

    def step(ids, state):
        ids = np.asarray(ids)
        context = np.vstack([state, ids[None, :]])[1:]
        context[:, ids == EOS] = BOS
        grams = np.column_stack([np.repeat(context.T, V, axis=0), np.tile(np.arange(V), len(ids))])
        p = model.kneser_ney(grams, d).reshape(len(ids), V).T
        p[BOS] = 0.0
        with np.errstate(divide="ignore"):
            return np.log(p), context

    return step


def select_columns(state, columns):
    """The state of the sequences ``columns`` (an index array): each array of the state indexed on its
    last (batch) axis; None stays None; tuples, lists and dicts keep their structure."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(select_columns(s, columns) for s in state)
    if isinstance(state, dict):
        return {k: select_columns(v, columns) for k, v in state.items()}
    return np.asarray(state)[..., columns]


# ---------------------------------------------------------------- the generation loop


def _prompt(start_ids, fn, batch=True):
    """start_ids as (P, N) int64 and whether it was one prompt (P,)."""
    ids = np.asarray(start_ids)
    ndims = (1, 2) if batch else (1,)
    if ids.ndim not in ndims or not np.issubdtype(ids.dtype, np.integer) or ids.size == 0 or ids.min() < 0:
        wanted = "a non-empty integer array (P,) or (P, N)" if batch else "a non-empty integer array (P,)"
        raise ValueError(f"{fn}: argument 'start_ids' must be {wanted} of ids >= 0; received {describe(start_ids)}")
    return (ids[:, None] if ids.ndim == 1 else ids).astype(np.int64), ids.ndim == 1


def _step(step, ids, state, fn):
    """One call of the model, its logits checked: (V, N) for N = len(ids)."""
    logits, state = step(ids, state)
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[1] != len(ids):
        raise ValueError(f"{fn}: argument 'step' must return logits of shape (V, {len(ids)}) for {len(ids)} ids; "
                         f"returned shape {logits.shape}")
    return logits, state


def _feed(step, state, prompt, fn):
    """Feed the prompt (P, N) through the model, one step per row; the logits after its last row and the state."""
    if not callable(step):
        raise TypeError(f"{fn}: argument 'step' must be a function step(ids, state) -> (logits, state); "
                        f"received {describe(step)}")
    for ids in prompt:
        logits, state = _step(step, ids, state, fn)
    if prompt.max() >= logits.shape[0]:
        raise ValueError(f"{fn}: argument 'start_ids' must hold ids in [0, {logits.shape[0]}) (V = the rows of the "
                         f"logits); received id {prompt.max()}")
    return logits, state


def generate(step, state, start_ids, n_tokens, choose, rng):
    """The lecture's generation loop: feed the prompt, then choose a token, feed it back in, repeat.

    step: the model (module docstring);  state: its state for N sequences;  start_ids: one prompt (P,)
    or N prompts as columns (P, N), P >= 1;  n_tokens >= 1: tokens to generate;  choose: a choice rule
    choose(logits (V, N), rng) -> ids (N,), e.g. sampler(...);  rng: np.random.Generator, passed to choose.
    Returns the generated ids (n_tokens,) for one prompt, (n_tokens, N) for a batch (time-major), int64.
    The prompt's tokens are fed once each; the last generated token is not fed.
    """
    fn = "generate"
    prompt, single = _prompt(start_ids, fn)
    n_tokens = require_positive_int(n_tokens, "n_tokens", fn)
    if not callable(choose):
        raise TypeError(f"{fn}: argument 'choose' must be a function choose(logits, rng) -> ids; "
                        f"received {describe(choose)}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{fn}: argument 'rng' must be a numpy.random.Generator; received {describe(rng)}")
    logits, state = _feed(step, state, prompt, fn)
    N = prompt.shape[1]
    out = np.empty((n_tokens, N), dtype=np.int64)
    for t in range(n_tokens):
        ids = np.asarray(choose(logits, rng))
        if ids.shape != (N,) or not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 \
                or ids.max() >= logits.shape[0]:
            raise ValueError(f"{fn}: argument 'choose' must return {N} integer ids in [0, {logits.shape[0]}), "
                             f"shape ({N},); returned {describe(ids)}")
        out[t] = ids
        if t + 1 < n_tokens:
            logits, state = _step(step, out[t], state, fn)
    return out[:, 0] if single else out


def sequence_logprob(step, state, start_ids, ids):
    """log P(ids | prompt) = sum_t log softmax(logits_t)[ids_t] in nats: the model's own score of a continuation.

    start_ids (P,) with ids (L,) -> float;  start_ids (P, N) with ids (L, N) -> (N,).  Feeds the prompt
    and then ids[:-1], as ``generate`` does.
    """
    fn = "sequence_logprob"
    prompt, single = _prompt(start_ids, fn)
    cont = np.asarray(ids)
    wanted = (1,) if single else (2, prompt.shape[1])
    if (cont.ndim, *cont.shape[1:]) != wanted or len(cont) == 0 or not np.issubdtype(cont.dtype, np.integer):
        raise ValueError(f"{fn}: argument 'ids' must be a non-empty integer array "
                         f"{'(L,)' if single else f'(L, {prompt.shape[1]})'}, like start_ids; received {describe(ids)}")
    cont = cont.reshape(len(cont), -1)
    logits, state = _feed(step, state, prompt, fn)
    total = np.zeros(prompt.shape[1])
    columns = np.arange(prompt.shape[1])
    for t, row in enumerate(cont):
        total += log_softmax(logits)[row, columns]
        if t + 1 < len(cont):
            logits, state = _step(step, row, state, fn)
    return float(total[0]) if single else total


def _end_id(end_id, V, fn):
    if end_id is not None and (isinstance(end_id, bool) or not isinstance(end_id, (int, np.integer))
                               or not 0 <= end_id < V):
        raise ValueError(f"{fn}: argument 'end_id' must be None or an id in [0, {V}); received {end_id!r}")


def greedy_decode(step, state, start_ids, max_len, end_id=None):
    """Greedy decoding: after the prompt (P,), always take the most probable token (ties: the lower id).

    Stops after max_len tokens, or after the token end_id (which is included) if given.
    state: the model's state for one sequence (N = 1).  Returns (ids (L,) int64, log-probability of ids
    given the prompt, in nats).
    """
    fn = "greedy_decode"
    prompt, _ = _prompt(start_ids, fn, batch=False)
    max_len = require_positive_int(max_len, "max_len", fn)
    logits, state = _feed(step, state, prompt, fn)
    _end_id(end_id, logits.shape[0], fn)
    ids, total = [], 0.0
    while True:
        logp = log_softmax(logits)[:, 0]
        best = int(np.argmax(logp))
        ids.append(best)
        total += float(logp[best])
        if best == end_id or len(ids) == max_len:
            return np.array(ids, dtype=np.int64), total
        logits, state = _step(step, np.array([best]), state, fn)


def beam_search(step, state, start_ids, beam_width, max_len, end_id=None, length_normalisation=None):
    """Beam search: keep the beam_width most probable prefixes, extend each by every token, repeat.

    After the prompt (P,), at each step every live prefix y_1..y_t is extended by every token v, scored
    log P(y_1..y_t v) = log P(y_1..y_t) + log softmax(logits)[v] (log-probabilities added: a product of
    probabilities underflows to 0 after a few hundred tokens), and the beam_width best candidates are
    kept (ties: the candidate of the better-ranked parent, then the lower token id).  A kept candidate
    that ends in end_id is finished and leaves the beam (so the beam narrows); the search stops when
    no prefix is live or after max_len tokens.  Of the finished and the max_len-long hypotheses, the
    one with the highest log P(y) / |y|^alpha wins (alpha = length_normalisation; None means 0, raw
    log-probability; alpha = 1 is the mean log-probability per token; |y| counts end_id; ties: the one
    found first).  beam_width = 1 is greedy_decode; a beam as wide as all V^max_len sequences finds
    the best sequence exactly.

    state: the model's state for one sequence (N = 1).  Returns (ids (L,) int64, log P(ids | prompt) in nats).
    """
    fn = "beam_search"
    prompt, _ = _prompt(start_ids, fn, batch=False)
    beam_width = require_positive_int(beam_width, "beam_width", fn)
    max_len = require_positive_int(max_len, "max_len", fn)
    alpha = 0.0 if length_normalisation is None else length_normalisation
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) \
            or not 0 <= alpha < np.inf:
        raise ValueError(f"{fn}: argument 'length_normalisation' must be None or a finite number alpha >= 0; "
                         f"received {length_normalisation!r}")
    logits, state = _feed(step, state, prompt, fn)
    V = logits.shape[0]
    _end_id(end_id, V, fn)
    prefixes, scores = np.zeros((1, 0), dtype=np.int64), np.zeros(1)
    done_ids, done_scores = [], []
    for t in range(max_len):
        candidates = (scores[None, :] + log_softmax(logits)).T.ravel()     # candidate b * V + v
        best = np.argsort(-candidates, kind="stable")[:beam_width]
        parents, tokens = np.divmod(best, V)
        prefixes, scores = np.column_stack([prefixes[parents], tokens]), candidates[best]
        live = (tokens != end_id) if end_id is not None else np.ones(len(tokens), dtype=bool)
        if t + 1 == max_len:
            live[:] = False
        done_ids += list(prefixes[~live])
        done_scores += list(scores[~live])
        if not live.any():
            break
        prefixes, scores, parents, tokens = prefixes[live], scores[live], parents[live], tokens[live]
        logits, state = _step(step, tokens, select_columns(state, parents), fn)
    lengths = np.array([len(y) for y in done_ids], dtype=float)
    winner = int(np.argmax(np.array(done_scores) / lengths ** alpha))
    return done_ids[winner].astype(np.int64), float(done_scores[winner])


# ---------------------------------------------------------------- diversity


def _ngrams(token_ids, n, fn):
    """The n-grams of each sequence: token_ids (L,) or (T, N) -> (M, N, n) with M = T - n + 1."""
    n = require_positive_int(n, "n", fn)
    ids = np.asarray(token_ids)
    if ids.ndim not in (1, 2) or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{fn}: argument 'token_ids' must be an integer array (L,) or (T, N); "
                         f"received {describe(token_ids)}")
    if ids.shape[0] < n or (ids.ndim == 2 and ids.shape[1] == 0):
        raise ValueError(f"{fn}: argument 'token_ids' must hold at least n = {n} tokens per sequence "
                         f"(one n-gram); received shape {ids.shape}")
    ids = ids.reshape(len(ids), -1)
    return np.lib.stride_tricks.sliding_window_view(ids, n, axis=0)


def distinct_n(token_ids, n):
    """distinct-n (Li et al. 2016): the number of distinct n-grams divided by the number of n-grams.

    token_ids: one sequence (L,) or N sequences as columns (T, N); n-grams are taken inside each
    sequence and counted over all of them together (1.0: no n-gram repeats, anywhere).  Returns a float.
    """
    grams = _ngrams(token_ids, n, "distinct_n").reshape(-1, n)
    return len(np.unique(grams, axis=0)) / len(grams)


def repetition_rate(token_ids, n):
    """The share of n-grams that repeat an n-gram earlier in the same sequence, averaged over sequences.

    For x_1..x_L, the n-grams g_i = (x_{i-n+1}, ..., x_i), i = n..L, and the rate is
    #{i : g_i = g_j for some j < i} / (L - n + 1) (seq-rep-n of Welleck et al. 2020).  For one sequence
    it equals 1 - distinct_n; for a batch (T, N) it is the mean over the columns of each one's rate
    (does a sample loop?), while distinct_n pools the batch (do the samples differ from each other?).
    Returns a float.
    """
    grams = _ngrams(token_ids, n, "repetition_rate")              # (M, N, n)
    M, N = grams.shape[:2]
    tagged = np.concatenate([np.broadcast_to(np.arange(N)[None, :, None], (M, N, 1)), grams], axis=2)
    distinct_per_sequence = np.bincount(np.unique(tagged.reshape(-1, n + 1), axis=0)[:, 0], minlength=N)
    return float(np.mean(1 - distinct_per_sequence / M))
