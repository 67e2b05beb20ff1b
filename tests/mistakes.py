"""Wrong answers for the grading round trip: assignment -> name -> (grade_id, source, shown).

``shown`` says whether the visible check catches the mistake (True) or only the
hidden tests do (False).  Each is a mistake students really make.
"""
MISTAKES = {
    "01_activations": {
        "relu_grad_one_at_zero": ("relu_grad", "def relu_grad(z):\n    return (z >= 0).astype(float)\n", True),
        "softmax_global_max": (
            "softmax",
            "def softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum(axis=0, keepdims=True)\n",
            False,
        ),
    },
    "02_backprop": {
        "pool_backward_assigns": (
            "average_pool_backward",
            "def average_pool_backward(dx, cache):\n"
            "    ids, mask, V = cache\n"
            "    dE = np.zeros((dx.shape[0], V))\n"
            "    dE[:, ids] = dx[:, None, :] * mask / mask.sum(axis=0)\n"
            "    return dE\n",
            True,
        ),
        "forward_returns_probability": (
            "classifier_forward",
            "def classifier_forward(params, ids, mask):\n"
            "    x, pool_cache = average_pool_forward(params['E'], ids, mask)\n"
            "    z, affine_cache = affine_forward(x, params['W'], params['b'])\n"
            "    h = np.tanh(z)\n"
            "    return sigmoid(params['u'].T @ h), (pool_cache, affine_cache, z, h, params['u'], 'tanh')\n",
            True,
        ),
        "bce_slide_sign": (
            "binary_cross_entropy",
            "def binary_cross_entropy(s, y):\n"
            "    y_hat = sigmoid(s)\n"
            "    return float(np.mean(-y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))\n",
            True,
        ),
    },
    "03_ngram_vs_neural_lm": {
        "perplexity_per_sentence": (
            "perplexity",
            "def perplexity(logprobs, n_tokens):\n"
            "    return float(np.exp(-np.mean(np.asarray(logprobs) / np.asarray(n_tokens))))\n",
            True,
        ),
        "window_backward_assigns": (
            "window_lm_backward",
            "def window_lm_backward(dscores, cache):\n"
            "    contexts, e, h, params = cache\n"
            "    dz = (params['U'].T @ dscores) * (1.0 - h ** 2)\n"
            "    de = (params['W'].T @ dz).reshape(contexts.shape[0], -1, contexts.shape[1])\n"
            "    dE = np.zeros_like(params['E'])\n"
            "    for k in range(contexts.shape[0]):\n"
            "        dE[:, contexts[k]] = de[k]\n"
            "    return {'E': dE, 'W': dz @ e.T, 'b1': dz.sum(axis=1, keepdims=True),\n"
            "            'U': dscores @ h.T, 'b2': dscores.sum(axis=1, keepdims=True)}\n",
            True,
        ),
    },
    "04_rnn_lm_gradients": {
        "bptt_assigns_the_weight_gradients": (
            "rnn_backward",
            "def rnn_backward(dhs, cache):\n"
            "    dxs, dh_next = [None] * len(cache), np.zeros_like(dhs[0])\n"
            "    for t in reversed(range(len(cache))):\n"
            "        dxs[t], dh_next, grads = rnn_step_backward(dhs[t] + dh_next, cache[t])\n"
            "    return np.stack(dxs), dh_next, grads\n",
            True,
        ),
        "lm_loss_summed": (
            "rnn_lm_loss",
            "def rnn_lm_loss(params, ids, h0):\n"
            "    inputs, targets = ids[:-1], ids[1:]\n"
            "    T, N = inputs.shape\n"
            "    hs, cache = rnn_forward(params['E'][:, inputs].transpose(1, 0, 2), h0, params)\n"
            "    H = hs.shape[1]\n"
            "    hidden = hs.transpose(1, 0, 2).reshape(H, T * N)\n"
            "    J, dscores = softmax_cross_entropy(params['U'] @ hidden + params['b2'], targets.ravel())\n"
            "    J, dscores = J * T * N, dscores * T * N\n"
            "    dxs, _, grads = rnn_backward((params['U'].T @ dscores).reshape(H, T, N).transpose(1, 0, 2), cache)\n"
            "    dE = np.zeros_like(params['E'])\n"
            "    np.add.at(dE.T, inputs.ravel(), dxs.transpose(0, 2, 1).reshape(T * N, -1))\n"
            "    grads.update(E=dE, U=dscores @ hidden.T, b2=dscores.sum(axis=1, keepdims=True))\n"
            "    return J, grads, hs[-1]\n",
            True,
        ),
        "windows_skip_a_token": (
            "tbptt_batches",
            "def tbptt_batches(stream, N, T):\n"
            "    M = len(stream) // N\n"
            "    pieces = stream[:N * M].reshape(N, M).T\n"
            "    return np.stack([pieces[k:k + T + 1] for k in range(0, M - T, T + 1)])\n",
            True,
        ),
        "clip_divides_by_a_zero_norm": (
            "clip_by_global_norm",
            "def clip_by_global_norm(grads, max_norm):\n"
            "    total_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))\n"
            "    scale = min(1.0, max_norm / total_norm)\n"
            "    return {k: g * scale for k, g in grads.items()}, total_norm\n",
            False,
        ),
    },
    "05_lstm_gru": {
        "lstm_h_without_tanh": (
            "lstm_step_forward",
            "def lstm_step_forward(x, h_prev, c_prev, params):\n"
            "    p = params\n"
            "    f = sigmoid(p['W_f'] @ h_prev + p['U_f'] @ x + p['b_f'])\n"
            "    i = sigmoid(p['W_i'] @ h_prev + p['U_i'] @ x + p['b_i'])\n"
            "    o = sigmoid(p['W_o'] @ h_prev + p['U_o'] @ x + p['b_o'])\n"
            "    c_tilde = np.tanh(p['W_c'] @ h_prev + p['U_c'] @ x + p['b_c'])\n"
            "    c = f * c_prev + i * c_tilde\n"
            "    cache = {'x': x, 'h_prev': h_prev, 'c_prev': c_prev, 'f': f, 'i': i, 'o': o, 'c_tilde': c_tilde,\n"
            "             'c': c, 'params': params}\n"
            "    return o * c, c, cache\n",
            True,
        ),
        "lstm_backward_drops_dc": (
            "lstm_backward",
            "def lstm_backward(dhs, cache):\n"
            "    dh_next = np.zeros_like(dhs[0])\n"
            "    dxs, grads = [None] * len(cache), None\n"
            "    for t in reversed(range(len(cache))):\n"
            "        dxs[t], dh_next, _, g = lstm_step_backward(dhs[t] + dh_next, np.zeros_like(dhs[0]), cache[t])\n"
            "        grads = g if grads is None else {k: grads[k] + g[k] for k in grads}\n"
            "    return np.stack(dxs), dh_next, grads\n",
            True,
        ),
        "gru_pytorch_swap": (
            "gru_step_forward",
            "def gru_step_forward(x, h_prev, params):\n"
            "    p = params\n"
            "    z = sigmoid(p['W_z'] @ h_prev + p['U_z'] @ x + p['b_z'])\n"
            "    r = sigmoid(p['W_r'] @ h_prev + p['U_r'] @ x + p['b_r'])\n"
            "    h_tilde = np.tanh(p['W_h'] @ (r * h_prev) + p['U_h'] @ x + p['b_h'])\n"
            "    h = z * h_prev + (1 - z) * h_tilde\n"
            "    return h, {'x': x, 'h_prev': h_prev, 'z': z, 'r': r, 'h_tilde': h_tilde, 'params': params}\n",
            True,
        ),
        "bidirectional_equal_halves": (
            "bidirectional_backward",
            "def bidirectional_backward(dhs, cache):\n"
            "    cell, cache_fw, cache_bw, _ = cache\n"
            "    H = dhs.shape[1] // 2\n"
            "    dxs_fw, dstate_fw, grads_fw = cell.backward(dhs[:, :H], cache_fw)\n"
            "    dxs_bw, dstate_bw, grads_bw = cell.backward(dhs[::-1, H:], cache_bw)\n"
            "    return dxs_fw + dxs_bw[::-1], (dstate_fw, dstate_bw), grads_fw, grads_bw\n",
            False,
        ),
    },
}
