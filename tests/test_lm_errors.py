"""Bad input to the language-model helpers raises errors that name the function, the argument,
the expected and the received value."""
import numpy as np
import pytest

from helpers import ngram, window_lm


def test_encode_ngrams_rejects_bad_grams_and_V():
    with pytest.raises(TypeError, match=r"^encode_ngrams: argument 'grams' must be a 2-D integer array \(M, n\); "
                                        r"received int64 array of shape \(3,\)"):
        ngram.encode_ngrams(np.array([1, 2, 3]), 5)
    with pytest.raises(TypeError, match=r"received float64 array of shape \(1, 2\)"):
        ngram.ngram_counts(np.array([[1.0, 2.0]]), 5)
    with pytest.raises(ValueError, match=r"^encode_ngrams: argument 'grams' must hold ids in \[0, 5\); "
                                         r"received ids from 1 to 7"):
        ngram.ngram_counts(np.array([[7, 1]]), 5)
    with pytest.raises(ValueError, match=r"^encode_ngrams: argument 'V' must be a positive integer with "
                                         r"V\*\*n < 2\*\*63 \(n = 6\); received 2000000"):
        ngram.encode_ngrams(np.zeros((1, 6), dtype=np.int64), 2_000_000)


def test_perplexity_and_unseen_share_reject_empty_input():
    with pytest.raises(ValueError, match=r"^perplexity: arguments 'logprobs' and 'n_tokens' must have the same "
                                         r"shape and cover at least one token; received shapes \(0,\) and \(0,\), 0"):
        ngram.perplexity([], [])
    with pytest.raises(ValueError, match=r"received shapes \(2,\) and \(1,\)"):
        ngram.perplexity([-1.0, -2.0], [3])
    with pytest.raises(ValueError, match=r"^unseen_share: argument 'test_keys' must hold at least one key"):
        ngram.unseen_share(np.array([1, 2]), np.array([], dtype=np.int64))


def test_window_lm_forward_rejects_ids_out_of_range_and_a_wrong_window():
    params = window_lm.init_window_lm(V=7, window=3, D=2, H=4)
    with pytest.raises(ValueError, match=r"^window_lm_forward: argument 'contexts' must hold ids in \[0, 7\); "
                                         r"received ids from -1 to 2"):
        window_lm.window_lm_forward(params, np.array([[1], [2], [-1]]))
    with pytest.raises(ValueError, match=r"^window_lm_forward: argument 'contexts' must have 3 rows \(the window "
                                         r"of W\); received shape \(2, 4\)"):
        window_lm.window_lm_forward(params, np.zeros((2, 4), dtype=np.int64))
