"""The delayed-copy task: the generator against its definition written as loops, the loss with unasked
first steps against a loop and central differences, accuracy of a model whose answers are known, and
training that learns a short delay and stays at chance for a long one."""
import math

import numpy as np
import pytest

from helpers import copy_task, rnn_lm
from helpers.data.delayed_copy import delayed_copy
from helpers.gradcheck import gradcheck


@pytest.mark.parametrize("k, every_step, length", [(1, False, 8), (5, False, 8), (3, True, 4), (1, True, 1)])
def test_generator_follows_its_definition(k, every_step, length):
    inputs, targets = delayed_copy(50, k, symbols=5, every_step=every_step, length=length, seed=3)
    T = k + (length if every_step else 1)
    assert inputs.shape == targets.shape == (T, 50) and inputs.dtype == targets.dtype == np.int64
    assert inputs.min() >= 0 and inputs.max() <= 4
    for n in range(50):
        for t in range(T):
            assert targets[t, n] == (inputs[t - k, n] if t >= k else -1)
    if not every_step:                                                  # the one question: the first token
        assert np.array_equal(targets[-1], inputs[0])


def test_generator_is_deterministic_and_uses_every_symbol():
    a, _ = delayed_copy(400, 3, symbols=4, seed=7)
    b, _ = delayed_copy(400, 3, symbols=4, seed=7)
    c, _ = delayed_copy(400, 3, symbols=4, seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    shares = np.bincount(a.ravel(), minlength=4) / a.size
    np.testing.assert_allclose(shares, 0.25, atol=0.03)
    rng = np.random.default_rng(0)                                      # one Generator: a new batch each call
    assert not np.array_equal(delayed_copy(10, 2, seed=rng)[0], delayed_copy(10, 2, seed=rng)[0])


def small_params(seed=0):
    params = rnn_lm.init_lm(4, 3, 5, seed=seed)
    rng = np.random.default_rng(seed + 1)
    params["U"], params["E"] = rng.normal(size=(4, 5)), rng.normal(size=(3, 4))
    params["b2"] = rng.normal(size=(4, 1))
    return params


def loss_by_loops(params, inputs, targets, start):
    nll = []
    for n in range(inputs.shape[1]):
        h = np.zeros(5)
        for t in range(len(inputs)):
            h = np.tanh(params["Wh"] @ h + params["Wx"] @ params["E"][:, inputs[t, n]] + params["b"][:, 0])
            if t >= start:
                s = params["U"] @ h + params["b2"][:, 0]
                nll.append(s.max() + math.log(np.exp(s - s.max()).sum()) - s[targets[t, n]])
    return math.fsum(nll) / len(nll)


@pytest.mark.parametrize("every_step", [False, True])
def test_loss_of_the_asked_steps_against_a_loop_and_central_differences(every_step):
    params = small_params()
    inputs, targets = delayed_copy(3, 2, symbols=4, every_step=every_step, length=3, seed=1)
    h0 = np.zeros((5, 3))
    J, grads, _ = rnn_lm.sequence_loss(params, inputs, targets, h0, start=2)
    assert J == pytest.approx(loss_by_loops(params, inputs, targets, 2), rel=1e-12)
    report = gradcheck(lambda p: rnn_lm.sequence_loss(p, inputs, targets, h0, start=2)[0],
                       {k: v.copy() for k, v in params.items()}, grads)
    assert report.passed, str(report)


def test_sequence_loss_is_the_lm_loss_on_shifted_ids():
    params = small_params(2)
    ids = np.random.default_rng(2).integers(0, 4, size=(6, 3))
    h0 = np.zeros((5, 3))
    J, grads, h_last = rnn_lm.sequence_loss(params, ids[:-1], ids[1:], h0)
    J_lm, grads_lm, h_lm = rnn_lm.rnn_lm_loss(params, ids, h0)
    assert J == J_lm and np.array_equal(h_last, h_lm) and all(np.array_equal(grads[k], grads_lm[k]) for k in grads)


def test_accuracy_of_a_model_that_always_answers_symbol_zero():
    params = small_params()
    params["U"][:] = 0.0
    params["b2"][:] = np.array([[1.0], [0.0], [0.0], [0.0]])
    inputs, targets = delayed_copy(1000, 3, symbols=4, seed=12345)
    assert copy_task.copy_accuracy(params, 3) == pytest.approx(np.mean(targets[3:] == 0))
    _, every = delayed_copy(1000, 3, symbols=4, every_step=True, length=5, seed=9)
    accuracy = copy_task.copy_accuracy(params, 3, every_step=True, length=5, seed=9)
    assert accuracy == pytest.approx(np.mean(every[3:] == 0))


def test_an_rnn_learns_a_short_delay_and_stays_at_chance_for_a_long_one():
    accuracies = copy_task.accuracy_against_delay([2, 12], steps=300)
    assert accuracies.shape == (2,)
    assert accuracies[0] >= 0.95 and accuracies[1] <= 0.4              # chance: 1 / 4
    params, losses = copy_task.train_copy(2, steps=50)
    assert losses.shape == (50,) and losses[-10:].mean() < losses[:10].mean()


@pytest.mark.parametrize("call, message", [
    (lambda: delayed_copy(10, 0), r"^delayed_copy: argument 'k' must be a positive integer; received 0"),
    (lambda: delayed_copy(0, 2), r"^delayed_copy: argument 'n' must be a positive integer; received 0"),
    (lambda: copy_task.train_copy(2, steps=0), r"^train_copy: argument 'steps' must be a positive integer"),
    (lambda: rnn_lm.sequence_loss(small_params(), np.zeros((3, 2), int), np.zeros((3, 2), int), np.zeros((5, 2)),
                                  start=3), r"^sequence_loss: argument 'start' must be an integer in \[0, 3\); "
                                            r"received 3"),
    (lambda: rnn_lm.sequence_loss(small_params(), np.zeros((3, 2), int), -np.ones((3, 2), int), np.zeros((5, 2)),
                                  start=1), r"^sequence_loss: argument 'targets\[start:\]' must hold word ids"),
])
def test_argument_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
