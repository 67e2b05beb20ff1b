"""The text classifier of the lecture: averaged word vectors, one hidden layer, a sigmoid output.

    x = (1/n) sum_{t=1..n} v_{w_t}        average pooling (平均池化) of the word vectors
    h = f(W x + b)                        hidden layer
    s = u^T h,   y_hat = sigmoid(s)       score and predicted probability of "positive"

Parameters: E (D, V), the word-vector table (词向量), one column v_w per word id;
W (H, D), b (H, 1), u (H, 1).  A batch of N sentences comes time-major and
padded: ids (T, N) and mask (T, N), with n = mask.sum(axis=0) the true lengths.
"""
from __future__ import annotations

import numpy as np

from .activations import sigmoid
from .layers import dense_backward, dense_forward
from .validate import (as_float_array, as_mask, require_keys, require_positive_int, require_positive_number,
                       require_shape)

KEYS = ("E", "W", "b", "u")


def init_classifier(V, D=16, H=16, seed=0):
    """Random parameters: E ~ N(0, 1), W ~ N(0, 1/D), u ~ N(0, 1/H), b = 0."""
    V, D, H = (require_positive_int(v, n, "init_classifier") for v, n in ((V, "V"), (D, "D"), (H, "H")))
    rng = np.random.default_rng(seed)
    return {"E": rng.normal(size=(D, V)), "W": rng.normal(scale=D ** -0.5, size=(H, D)),
            "b": np.zeros((H, 1)), "u": rng.normal(scale=H ** -0.5, size=(H, 1))}


def _ids_and_mask(ids, mask, V, fn):
    ids = np.asarray(ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{fn}: argument 'ids' must be a 2-D integer array (T, N); received {ids.dtype} "
                        f"array of shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{fn}: argument 'ids' must hold word ids in [0, {V}); received ids from "
                         f"{ids.min()} to {ids.max()}")
    mask = as_mask(mask, "mask", fn)
    require_shape(mask, ids.shape, "mask", fn)
    if (mask.sum(axis=0) <= 0).any():
        raise ValueError(f"{fn}: argument 'mask' must mark at least one word in every sentence (column); "
                         f"received empty columns {np.flatnonzero(mask.sum(axis=0) <= 0)[:5].tolist()}")
    return ids, mask


def average_pool_forward(E, ids, mask):
    """x_n = (1/n_n) sum_t mask[t, n] E[:, ids[t, n]].

    E: (D, V), ids: (T, N) int, mask: (T, N) -> x: (D, N), cache = (ids, mask, V).
    """
    E = as_float_array(E, "E", "average_pool_forward", ndim=2)
    ids, mask = _ids_and_mask(ids, mask, E.shape[1], "average_pool_forward")
    weights = mask / mask.sum(axis=0)                        # (T, N): 1/n on real words, 0 on padding
    return np.einsum("dtn,tn->dn", E[:, ids], weights), (ids, mask, E.shape[1])


def average_pool_backward(dx, cache):
    """dJ/dE from dx = dJ/dx: (D, N) -> dE: (D, V).

    Word w receives dx_n / n_n once for every time it occurs in sentence n.  A
    word that occurs twice gets two contributions, so they are *added*
    (np.add.at), never assigned: dE[:, ids] = ... would keep only one of them.
    """
    ids, mask, V = cache
    dx = as_float_array(dx, "dx", "average_pool_backward", ndim=2)
    require_shape(dx, (None, ids.shape[1]), "dx", "average_pool_backward")
    contributions = dx[:, None, :] * (mask / mask.sum(axis=0))    # (D, T, N)
    dE = np.zeros((dx.shape[0], V))
    np.add.at(dE.T, ids, contributions.transpose(1, 2, 0))         # dE.T[ids[t, n]] += contributions[:, t, n]
    return dE


def classifier_forward(params, ids, mask, activation="tanh"):
    """Scores s = u^T f(W x + b) for a batch.  ids, mask: (T, N) -> s: (1, N), cache.

    cache = (pool_cache, affine_cache, z, h, u, activation): the caches of average_pool_forward
    and affine_forward, the pre-activation z = W x + b (H, N), h = f(z) (H, N), u (H, 1) and the
    name of f: everything classifier_backward needs.
    """
    require_keys(params, KEYS, "params", "classifier_forward")
    x, pool_cache = average_pool_forward(params["E"], ids, mask)
    h, (affine_cache, z, _) = dense_forward(x, params["W"], params["b"], activation)
    u = as_float_array(params["u"], "params['u']", "classifier_forward", ndim=2)
    require_shape(u, (z.shape[0], 1), "params['u']", "classifier_forward")
    return u.T @ h, (pool_cache, affine_cache, z, h, u, activation)


def classifier_backward(ds, cache):
    """Gradients of J from ds = dJ/ds: (1, N) -> dict with keys E, W, b, u (shapes of the parameters).

    The chain rule, factor by factor:  du = h ds^T;  dh = u ds;  dz = dh * f'(z);
    (dx, dW, db) = affine_backward(dz);  dE = average_pool_backward(dx).
    """
    pool_cache, affine_cache, z, h, u, activation = cache
    ds = as_float_array(ds, "ds", "classifier_backward", ndim=2)
    require_shape(ds, (1, h.shape[1]), "ds", "classifier_backward")
    dx, dW, db = dense_backward(u @ ds, (affine_cache, z, activation))   # dz = dh * f'(z) inside
    return {"E": average_pool_backward(dx, pool_cache), "W": dW, "b": db, "u": h @ ds.T}


def predict_proba(params, ids, mask, activation="tanh"):
    """y_hat = sigmoid(s), the predicted probability of "positive".  ids, mask: (T, N) -> (1, N)."""
    return sigmoid(classifier_forward(params, ids, mask, activation)[0])


def accuracy(params, split, activation="tanh"):
    """The share of sentences of a data split whose label the classifier predicts (y_hat > 0.5)."""
    return float(np.mean((predict_proba(params, split.ids, split.mask, activation) > 0.5) == (split.y > 0.5)))


def train_classifier(params, data, lr=1.0, epochs=10, batch_size=32, seed=0, activation="tanh"):
    """Minibatch SGD on data.train, one pass over a fresh random order per epoch, cut into minibatches of
    batch_size sentences (the last one may be smaller), one step each.

    Returns the trained parameters (``params`` is not modified) and a history
    dict with, per epoch, the mean training loss "loss" (over the epoch's
    minibatches), the loss on the dev split "dev_loss", and the accuracies
    "train_acc" and "dev_acc".
    """
    from .losses import bce_with_logits
    from .optim import sgd_step
    epochs = require_positive_int(epochs, "epochs", "train_classifier")
    batch_size = require_positive_int(batch_size, "batch_size", "train_classifier")
    require_positive_number(lr, "lr", "train_classifier")
    rng = np.random.default_rng(seed)
    train = data.train
    history = {"loss": [], "dev_loss": [], "train_acc": [], "dev_acc": []}
    for _ in range(epochs):
        losses, order = [], rng.permutation(len(train))
        for batch in (order[start:start + batch_size] for start in range(0, len(order), batch_size)):
            s, cache = classifier_forward(params, train.ids[:, batch], train.mask[:, batch], activation)
            J, ds = bce_with_logits(s, train.y[:, batch])
            params = sgd_step(params, classifier_backward(ds, cache), lr)
            losses.append(J)
        history["loss"].append(float(np.mean(losses)))
        dev_scores = classifier_forward(params, data.dev.ids, data.dev.mask, activation)[0]
        history["dev_loss"].append(bce_with_logits(dev_scores, data.dev.y)[0])
        history["train_acc"].append(accuracy(params, train, activation))
        history["dev_acc"].append(accuracy(params, data.dev, activation))
    return params, history
