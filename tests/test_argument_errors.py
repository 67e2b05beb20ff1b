"""Sizes, schedules and splits given to the helpers are checked: the error names the function,
the argument and the received value."""
import numpy as np
import pytest

from helpers import classifier, mlp, window_lm
from helpers.data import load_corpus, load_sentiment


@pytest.mark.parametrize("call, message", [
    (lambda: classifier.init_classifier(0), r"^init_classifier: argument 'V' must be a positive integer; received 0"),
    (lambda: classifier.init_classifier(10, D=2.5), r"^init_classifier: argument 'D' must be a positive integer; "
                                                    r"received 2.5"),
    (lambda: window_lm.init_window_lm(10, window=0), r"^init_window_lm: argument 'window' must be a positive "
                                                     r"integer; received 0"),
    (lambda: window_lm.init_window_lm(10, H=True), r"^init_window_lm: argument 'H' must be a positive integer; "
                                                   r"received True"),
    (lambda: mlp.train_mlp(np.zeros((2, 3)), np.zeros((1, 3)), [2, 1], steps=-1),
     r"^train_mlp: argument 'steps' must be a positive integer; received -1"),
    (lambda: mlp.train_mlp(np.zeros((2, 3)), np.zeros((1, 3)), [2, 1], lr=float("nan")),
     r"^train_mlp: argument 'lr' must be a positive finite number; received nan"),
    (lambda: load_corpus(split=(0.5, 0.5)), r"^load_corpus: argument 'split' must be three positive shares "
                                            r"summing to 1; received \(0.5, 0.5\)"),
    (lambda: load_corpus(min_count=0), r"^load_corpus: argument 'min_count' must be a positive integer; received 0"),
    (lambda: load_sentiment(split=(0.8, 0.3, -0.1)), r"^load_sentiment: argument 'split' must be three positive "
                                                     r"shares summing to 1"),
    (lambda: window_lm.nearest_neighbours(np.eye(3), 5), r"^nearest_neighbours: argument 'word_id' must be an id "
                                                        r"in \[0, 3\); received 5"),
    (lambda: window_lm.nearest_neighbours(np.eye(3), 1, k=0), r"^nearest_neighbours: argument 'k' must be a "
                                                             r"positive integer; received 0"),
])
def test_bad_sizes_and_schedules(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_train_classifier_checks_its_schedule():
    data = load_sentiment(n=100)
    params = classifier.init_classifier(len(data.vocab))
    with pytest.raises(ValueError, match=r"^train_classifier: argument 'epochs' must be a positive integer; "
                                         r"received 0"):
        classifier.train_classifier(params, data, epochs=0)
    with pytest.raises(ValueError, match=r"^train_classifier: argument 'lr' must be a positive finite number; "
                                         r"received -1.0"):
        classifier.train_classifier(params, data, lr=-1.0)


def test_window_lm_backward_checks_the_shape_of_dscores():
    params = window_lm.init_window_lm(V=6, window=2, D=2, H=3)
    _, cache = window_lm.window_lm_forward(params, np.array([[1, 2, 3], [0, 4, 5]]))
    with pytest.raises(ValueError, match=r"^window_lm_backward: argument 'dscores' must have shape \(6, 3\); "
                                         r"received shape \(3, 6\)"):
        window_lm.window_lm_backward(np.zeros((3, 6)), cache)
