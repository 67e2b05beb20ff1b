"""The fixed-window neural language model of the lecture (Bengio et al. 2003):

    e = [e_1; e_2; ...; e_{n-1}]      the vectors of the n-1 previous words, stacked
    h = tanh(W e + b1)                 hidden layer
    y_hat = softmax(U h + b2)          a distribution over the next word

Parameters: E (D, V) word vectors as columns, W (H, (n-1) D), b1 (H, 1), U (V, H),
b2 (V, 1).  A batch of N contexts is time-major: ids of shape (n-1, N), row k
holding the k-th word of each window.  No sparsity (every context gets a smooth
distribution) and no n-gram table, but the window is fixed, and W grows with it.
"""
from __future__ import annotations

import numpy as np

from .activations import softmax
from .layers import affine_backward, affine_forward, dense_forward
from .losses import softmax_cross_entropy
from .ngram import ngram_windows
from .validate import require_keys, require_positive_int, require_positive_number, require_shape

KEYS = ("E", "W", "b1", "U", "b2")


def init_window_lm(V, window=4, D=32, H=64, seed=0):
    """Random parameters: E ~ N(0, 0.1^2), W ~ N(0, 1/((n-1) D)), U ~ N(0, 1/H), biases 0."""
    V, window, D, H = (require_positive_int(v, n, "init_window_lm")
                       for v, n in ((V, "V"), (window, "window"), (D, "D"), (H, "H")))
    rng = np.random.default_rng(seed)
    return {"E": rng.normal(scale=0.1, size=(D, V)), "W": rng.normal(scale=(window * D) ** -0.5, size=(H, window * D)),
            "b1": np.zeros((H, 1)), "U": rng.normal(scale=H ** -0.5, size=(V, H)), "b2": np.zeros((V, 1))}


def window_lm_forward(params, contexts):
    """Scores (logits) of the next word.  contexts: (n-1, N) ids -> scores (V, N), cache.

    cache = (contexts, e, h, params): e ((n-1) D, N) the stacked vectors, h (H, N).
    """
    require_keys(params, KEYS, "params", "window_lm_forward")
    contexts = np.asarray(contexts)
    if contexts.ndim != 2 or not np.issubdtype(contexts.dtype, np.integer):
        raise TypeError(f"window_lm_forward: argument 'contexts' must be a 2-D integer array (n-1, N); "
                        f"received {contexts.dtype} array of shape {contexts.shape}")
    E = params["E"]
    if contexts.size and (contexts.min() < 0 or contexts.max() >= E.shape[1]):
        raise ValueError(f"window_lm_forward: argument 'contexts' must hold ids in [0, {E.shape[1]}); received ids "
                         f"from {contexts.min()} to {contexts.max()}")
    if params["W"].shape[1] != contexts.shape[0] * E.shape[0]:
        raise ValueError(f"window_lm_forward: argument 'contexts' must have {params['W'].shape[1] // E.shape[0]} rows "
                         f"(the window of W); received shape {contexts.shape}")
    e = E[:, contexts].transpose(1, 0, 2).reshape(-1, contexts.shape[1])   # [e_1; ...; e_{n-1}]
    h, _ = dense_forward(e, params["W"], params["b1"], "tanh")             # h = tanh(W e + b1)
    scores, _ = affine_forward(h, params["U"], params["b2"])                # U h + b2
    return scores, (contexts, e, h, params)


def window_lm_backward(dscores, cache):
    """Gradients {E, W, b1, U, b2} from dscores = dJ/dscores (V, N) and the cache of window_lm_forward."""
    contexts, e, h, params = cache
    require_shape(np.asarray(dscores), (params["U"].shape[0], contexts.shape[1]), "dscores", "window_lm_backward")
    dh, dU, db2 = affine_backward(dscores, (h, params["U"]))
    de, dW, db1 = affine_backward(dh * (1.0 - h ** 2), (e, params["W"]))   # through tanh: h' = 1 - h^2
    de = de.reshape(contexts.shape[0], -1, contexts.shape[1])               # (n-1, D, N)
    dE = np.zeros_like(params["E"])
    np.add.at(dE.T, contexts, de.transpose(0, 2, 1))        # word contexts[k, n] receives de[k, :, n]
    return {"E": dE, "W": dW, "b1": db1, "U": dU, "b2": db2}


def windows(corpus, split, window=4):
    """(contexts (window, M), targets (M,)) of every predicted token of a split."""
    grams = ngram_windows(*corpus.stream(split, window + 1), window + 1)
    return grams[:, :window].T.copy(), grams[:, window].copy()


def evaluate(params, contexts, targets, batch_size=2048, forward=window_lm_forward, loss=softmax_cross_entropy):
    """Mean negative log-likelihood per token (nats) of the targets; perplexity is its exp.
    forward, loss: the functions used (the reference ones, or your own)."""
    total = 0.0
    for start in range(0, len(targets), batch_size):
        scores, _ = forward(params, contexts[:, start:start + batch_size])
        total += loss(scores, targets[start:start + batch_size])[0] * len(targets[start:start + batch_size])
    return total / len(targets)


def train_window_lm(corpus, window=4, D=32, H=64, epochs=5, batch_size=64, lr=0.5, seed=0,
                    forward=window_lm_forward, backward=window_lm_backward, loss=softmax_cross_entropy,
                    progress=True):
    """Minibatch SGD on the training split.  Returns (params, history) with, per epoch,
    "train_nll" (mean over the epoch's batches) and "dev_ppl", and "best_epoch": the parameters returned are
    those of the epoch with the lowest dev perplexity (early stopping: with its 143,000 parameters on 26,000
    training tokens the model overfits after about 6 epochs at lr = 1).

    forward, backward, loss: the functions trained with (the reference ones, or your own with the same
    signatures); progress: show a progress bar over the epochs.
    """
    from .optim import sgd_step
    from .progress import progress_bar
    epochs = require_positive_int(epochs, "epochs", "train_window_lm")
    batch_size = require_positive_int(batch_size, "batch_size", "train_window_lm")
    require_positive_number(lr, "lr", "train_window_lm")
    params = init_window_lm(corpus.V, window, D, H, seed)
    contexts, targets = windows(corpus, "train", window)
    dev = windows(corpus, "dev", window)
    rng = np.random.default_rng(seed)
    history = {"train_nll": [], "dev_ppl": [], "best_epoch": None}
    best = params
    bar = progress_bar(range(epochs), desc="window LM epochs", enabled=progress)
    for _ in bar:
        losses = []
        for batch in np.array_split(rng.permutation(len(targets)), max(1, len(targets) // batch_size)):
            scores, cache = forward(params, contexts[:, batch])
            J, dscores = loss(scores, targets[batch])
            params = sgd_step(params, backward(dscores, cache), lr)
            losses.append(J)
        history["train_nll"].append(float(np.mean(losses)))
        history["dev_ppl"].append(float(np.exp(evaluate(params, *dev, forward=forward, loss=loss))))
        if history["dev_ppl"][-1] <= min(history["dev_ppl"]):
            best, history["best_epoch"] = params, len(history["dev_ppl"]) - 1
        bar.set_postfix_str(f"dev perplexity {history['dev_ppl'][-1]:.1f}")
    return best, history


def next_word_distribution(params, context_ids):
    """P(next word | the last `window` ids of context_ids): (V,)."""
    window = params["W"].shape[1] // params["E"].shape[0]
    ids = np.concatenate([np.full(window, 1), np.asarray(context_ids, dtype=np.int64)])[-window:]
    return softmax(window_lm_forward(params, ids[:, None])[0])[:, 0]


def nearest_neighbours(E, word_id, k=5):
    """The k word ids whose vectors (columns of E) have the highest cosine similarity to word_id's."""
    if not isinstance(word_id, (int, np.integer)) or not 0 <= word_id < E.shape[1]:
        raise ValueError(f"nearest_neighbours: argument 'word_id' must be an id in [0, {E.shape[1]}); "
                         f"received {word_id!r}")
    k = require_positive_int(k, "k", "nearest_neighbours")
    unit = E / np.maximum(np.linalg.norm(E, axis=0, keepdims=True), 1e-12)
    similarity = unit.T @ unit[:, word_id]
    similarity[word_id] = -np.inf
    return np.argsort(-similarity)[:k]
