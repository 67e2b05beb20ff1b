"""helpers.sequence_classifier: the score against the cell's step function applied word by word (forwards, and
backwards over the reversed sentence for a bidirectional model), every gradient against central differences for
each cell and both readouts, batches of one length, training on the sentiment data, other bidirectional
functions (the student's) plugged in, and notebook 02's figures that notebook 05 quotes."""
import numpy as np
import pytest

from helpers import bidirectional, classifier
from helpers import sequence_classifier as sc
from helpers.activations import sigmoid
from helpers.cells import CELLS
from helpers.data.sentiment import load_sentiment
from helpers.gradcheck import gradcheck


@pytest.fixture(scope="module")
def data():
    return load_sentiment()


def random_params(cell, bidirectional_, V=9, D=3, H=2, seed=0):
    rng = np.random.default_rng(seed)
    params = sc.init_sequence_classifier(V, D, H, cell, bidirectional_, seed)
    return {k: v + 0.3 * rng.normal(size=v.shape) for k, v in params.items()}


def by_steps(cell, params, suffix, xs):
    """The states of one direction, step by step from the zero state."""
    cell = CELLS[cell]
    p = {k: params[f"{k}{suffix}"] for k in cell.keys}
    state, hs = cell.zero_state(p[cell.keys[0]].shape[0], xs.shape[2]), []
    for x in xs:
        h, state = cell.step(x, state, p)
        hs.append(h)
    return np.stack(hs)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_scores_forwards_against_the_step_function(cell):
    params = random_params(cell, False)
    ids = np.random.default_rng(1).integers(0, 9, size=(5, 4))
    s, _ = sc.sequence_classifier_forward(params, ids, cell)
    hs = by_steps(cell, params, "", params["E"][:, ids].transpose(1, 0, 2))
    np.testing.assert_allclose(s, params["u"].T @ hs[-1], rtol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_scores_bidirectional_read_the_last_word_forwards_and_the_first_backwards(cell):
    params = random_params(cell, True)
    ids = np.random.default_rng(2).integers(0, 9, size=(6, 3))
    s, _ = sc.sequence_classifier_forward(params, ids, cell, bidirectional=True)
    xs = params["E"][:, ids].transpose(1, 0, 2)
    h_fw = by_steps(cell, params, "^fw", xs)[-1]
    h_bw = by_steps(cell, params, "^bw", xs[::-1])[-1]          # the backward direction after reading x_T .. x_1
    np.testing.assert_allclose(s, params["u"].T @ np.concatenate([h_fw, h_bw]), rtol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional_", [False, True])
def test_gradients_against_central_differences(cell, bidirectional_):
    params = random_params(cell, bidirectional_, seed=3)
    ids = np.array([[1, 4, 4], [2, 0, 4], [1, 8, 3], [4, 4, 7]])          # repeated words: dE adds up
    y = np.array([[1.0, 0.0, 1.0]])

    def J(p):
        s, _ = sc.sequence_classifier_forward(p, ids, cell, bidirectional_)
        return float(np.mean(np.logaddexp(0, s) - y * s))

    s, cache = sc.sequence_classifier_forward(params, ids, cell, bidirectional_)
    grads = sc.sequence_classifier_backward((sigmoid(s) - y) / 3, cache)
    assert set(grads) == set(params) == set(sc.parameter_keys(cell, bidirectional_))
    report = gradcheck(J, params, grads)
    assert report.passed, str(report)


def test_other_bidirectional_functions_are_used(data):
    calls = []

    def forward(*args):
        calls.append("forward")
        return bidirectional.bidirectional_forward(*args)

    def backward(*args):
        calls.append("backward")
        return bidirectional.bidirectional_backward(*args)

    params = random_params("gru", True)
    ids = np.array([[1, 2], [3, 4]])
    expected = sc.sequence_classifier_forward(params, ids, "gru", True)[0]
    s, cache = sc.sequence_classifier_forward(params, ids, "gru", True, functions=(forward, backward))
    sc.sequence_classifier_backward(np.ones_like(s), cache)
    np.testing.assert_array_equal(s, expected)
    assert calls == ["forward", "backward"]


def test_length_batches_hold_sentences_of_one_length_each_once(data):
    split = data.dev
    lengths = split.mask.sum(axis=0).astype(int)
    for rng in (None, 5):
        batches = sc.length_batches(split, 16, rng)
        together = np.concatenate(batches)
        assert sorted(together.tolist()) == list(range(len(split)))
        assert all(len(b) <= 16 and len(set(lengths[b])) == 1 for b in batches)
        for b in batches:                                             # no padding inside a batch
            assert split.mask[:lengths[b[0]], b].all()
    assert [b.tolist() for b in sc.length_batches(split, 16, 5)] == [b.tolist() for b in sc.length_batches(split, 16, 5)]


def test_predictions_follow_the_order_of_the_split(data):
    params = sc.init_sequence_classifier(len(data.vocab), 4, 3, "gru")
    y_hat = sc.predict_proba(params, data.dev, "gru")
    for n in (0, 7, 100):
        length = int(data.dev.mask[:, n].sum())
        s, _ = sc.sequence_classifier_forward(params, data.dev.ids[:length, [n]], "gru")
        assert y_hat[0, n] == pytest.approx(float(sigmoid(s)[0, 0]))


def test_training_learns_negation_and_contrast(data):
    params, history = sc.train_sequence_classifier(data, "gru", D=16, H=16, epochs=2, lr=1.0, progress=False)
    accuracy = sc.accuracy_by_kind(params, data.dev, "gru")
    assert history["loss"][1] < history["loss"][0]
    assert accuracy["negated"] > 0.8 and accuracy["contrast"] > 0.8 and accuracy["all"] > 0.9
    assert len(history["dev_acc"]) == len(history["seconds"]) == 2


def test_max_steps_stops_early(data):
    _, history = sc.train_sequence_classifier(data, "rnn", D=4, H=4, epochs=3, max_steps=3, progress=False)
    assert len(history["loss"]) == 1


def test_notebook_02s_figures_that_05_quotes(data):
    """The averaged-vector classifier of 02 (reference trainer, 02's settings) per kind on the dev split."""
    for name, activation in (("no hidden nonlinearity", "identity"), ("tanh hidden layer", "tanh")):
        params, _ = classifier.train_classifier(classifier.init_classifier(len(data.vocab)), data, lr=1.0,
                                                epochs=10, batch_size=32, activation=activation)
        y_hat = classifier.predict_proba(params, data.dev.ids, data.dev.mask, activation)[0]
        right = (y_hat > 0.5) == (data.dev.y[0] > 0.5)
        for kind, quoted in sc.AVERAGED_VECTORS_02[name].items():
            assert float(right[data.dev.kinds == kind].mean()) == pytest.approx(quoted, abs=5e-4), (name, kind)


def test_argument_errors():
    params = random_params("lstm", False)
    with pytest.raises(ValueError, match=r"^sequence_classifier_forward: argument 'ids' must be a 2-D integer array"):
        sc.sequence_classifier_forward(params, np.array([1, 2]), "lstm")
    with pytest.raises(ValueError, match=r"^sequence_classifier_forward: argument 'ids' must hold word ids in \[0, 9\)"):
        sc.sequence_classifier_forward(params, np.array([[1], [9]]), "lstm")
    with pytest.raises(ValueError, match=r"^sequence_classifier_forward: argument 'params' is missing key"):
        sc.sequence_classifier_forward(params, np.array([[1]]), "lstm", bidirectional=True)
    s, cache = sc.sequence_classifier_forward(params, np.array([[1, 2]]), "lstm")
    with pytest.raises(ValueError, match=r"^sequence_classifier_backward: argument 'ds' must have shape \(1, 2\)"):
        sc.sequence_classifier_backward(np.ones((1, 3)), cache)
