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
            "    return sigmoid(params['u'].T @ h), (pool_cache, affine_cache, z, h, params['u'])\n",
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
}
