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
}
