"""helpers.data.sentiment: determinism, sizes, no leakage between splits, the shares of the kinds,
balanced labels, the vocabulary and the padded encoding, and the meaning of the labels checked
sentence by sentence against the word lists."""
import hashlib
import re
from collections import Counter

import numpy as np
import pytest

from helpers.data import sentiment as S
from helpers.data.sentiment import KINDS, SHARE, encode, generate_sentences, load_sentiment

# Regression guard: the SHA-256 of the default data set (text, labels and kinds).  The notebooks'
# numbers and the grading targets were computed on exactly this data; if a change to the generator
# is intended, update this value (and re-check the notebooks), otherwise the change is a bug.
DEFAULT_CHECKSUM = "6a66a733ad6744a74b991d5c3ca7f7a57b99a27e8babf79a3b5f4117f9a9968b"

POSITIVE_WORDS = set(S.POSITIVE) | set(S.RARE_POSITIVE) | set(S.SCARCE_POSITIVE) | set(S.LIKE)
NEGATIVE_WORDS = set(S.NEGATIVE) | set(S.RARE_NEGATIVE) | set(S.SCARCE_NEGATIVE) | set(S.DISLIKE)


@pytest.fixture(scope="module")
def data():
    return load_sentiment()


def splits(d):
    return {"train": d.train, "dev": d.dev, "test": d.test}


def polarities(text):
    """+1 / -1 for each opinion word (adjective or like/hate verb) of the sentence, in order."""
    return [1 if w in POSITIVE_WORDS else -1 for w in text.split() if w in POSITIVE_WORDS | NEGATIVE_WORDS]


def test_the_word_lists_do_not_overlap():
    assert not POSITIVE_WORDS & NEGATIVE_WORDS
    others = set(S.NOUNS) | set(S.DETERMINERS) | set(S.INTENSIFIERS) | {w for p in S.PREFIXES for w in p.split()}
    assert not (POSITIVE_WORDS | NEGATIVE_WORDS) & others


# ---------------------------------------------------------------- determinism and sizes


def test_default_checksum_is_pinned(data):
    assert data.checksum == DEFAULT_CHECKSUM


def test_checksum_is_the_sha256_of_the_text_labels_and_kinds(data):
    rows = [f"{int(y)}\t{k}\t{t}" for sp in splits(data).values() for t, y, k in zip(sp.sentences, sp.y[0], sp.kinds)]
    assert hashlib.sha256("\n".join(rows).encode()).hexdigest() == data.checksum


def test_same_seed_same_data_other_seed_other_data(data):
    again = load_sentiment()
    assert again.checksum == data.checksum and again.vocab == data.vocab
    for name, sp in splits(data).items():
        other = getattr(again, name)
        for field in ("ids", "mask", "y", "kinds"):
            np.testing.assert_array_equal(getattr(sp, field), getattr(other, field))
        assert sp.sentences == other.sentences
    different = load_sentiment(seed=1)
    assert different.checksum != data.checksum
    assert different.train.sentences[:20] != data.train.sentences[:20]


def test_default_sizes_and_other_splits(data):
    assert (len(data.train), len(data.dev), len(data.test)) == (4200, 900, 900)
    for name, sp in splits(data).items():
        N = len(sp)
        assert sp.ids.shape[1] == sp.mask.shape[1] == sp.y.shape[1] == len(sp.kinds) == N, name
        assert sp.y.shape == (1, N) and sp.ids.dtype.kind == "i" and sp.mask.dtype == np.float64
    small = load_sentiment(n=100, seed=3)
    assert (len(small.train), len(small.dev), len(small.test)) == (70, 15, 15)
    other = load_sentiment(n=1000, split=(0.8, 0.1, 0.1))
    assert (len(other.train), len(other.dev), len(other.test)) == (800, 100, 100)


def test_all_sentences_are_distinct_and_no_sentence_is_in_two_splits(data):
    sets = {name: set(sp.sentences) for name, sp in splits(data).items()}
    assert all(len(sets[name]) == len(sp) for name, sp in splits(data).items())
    assert not sets["train"] & sets["dev"] and not sets["train"] & sets["test"] and not sets["dev"] & sets["test"]


def test_generate_sentences_is_deterministic_with_exact_kind_counts():
    rows = generate_sentences(n=500, seed=4)
    assert rows == generate_sentences(n=500, seed=4)
    assert len({text for text, _, _ in rows}) == 500
    assert Counter(kind for _, _, kind in rows) == {k: round(500 * SHARE[k]) for k in KINDS}


# ---------------------------------------------------------------- kinds and labels


def test_kinds_have_the_shares_of_SHARE(data):
    assert set(SHARE) == set(KINDS) and sum(SHARE.values()) == pytest.approx(1.0)
    everything = np.concatenate([sp.kinds for sp in splits(data).values()])
    assert Counter(everything.tolist()) == {k: round(6000 * SHARE[k]) for k in KINDS}
    for name, sp in splits(data).items():
        for kind in KINDS:
            assert abs(np.mean(sp.kinds == kind) - SHARE[kind]) < 0.04, (name, kind)


def test_labels_are_binary_and_roughly_balanced(data):
    for name, sp in splits(data).items():
        assert set(np.unique(sp.y)) == {0.0, 1.0}
        assert 0.4 <= sp.y.mean() <= 0.6, name
        for kind in KINDS:
            assert 0.4 <= sp.y[0, sp.kinds == kind].mean() <= 0.6, (name, kind)


def test_labels_mean_what_the_kinds_say(data):
    """plain/intensified: every opinion word has the label's polarity; negated: "not" and one opinion word
    of the opposite polarity; contrast: two opposite opinions, the LAST one has the label's polarity."""
    counts = Counter()
    for sp in splits(data).values():
        for text, y, kind in zip(sp.sentences, sp.y[0], sp.kinds):
            label = 1 if y == 1 else -1
            found = polarities(text)
            words = text.split()
            if kind in ("plain", "intensified"):
                assert found and all(p == label for p in found), text
                assert "not" not in words and "but" not in words, text
                if kind == "intensified":
                    assert set(words) & (set(S.INTENSIFIERS) | {"really"}), text
            elif kind == "negated":
                assert "not" in words and found == [-label], text
            else:
                assert len(found) == 2 and found[0] == -label and found[-1] == label, text
                assert "but" in words or "although" in words, text
            counts[kind] += 1
    assert sum(counts.values()) == 6000


def test_handcrafted_examples_of_the_polarity_rule():
    assert polarities("the music is lovely but the plot is dull") == [1, -1]
    assert polarities("i do not hate this book") == [-1]
    assert polarities("honestly a truly awful film") == [-1]


# ---------------------------------------------------------------- vocabulary and encoding


def test_vocabulary_is_pad_unk_then_frequent_training_words(data):
    assert data.vocab[:2] == ("<pad>", "<unk>")
    assert data.word_to_id == {w: i for i, w in enumerate(data.vocab)}
    counts = Counter(w for text in data.train.sentences for w in text.split())
    frequent = sorted((w for w, c in counts.items() if c >= 2), key=lambda w: (-counts[w], w))
    assert list(data.vocab[2:]) == frequent
    assert len(load_sentiment(min_count=1).vocab) == 2 + len(counts)


def test_ids_and_mask_encode_each_sentence(data):
    V = len(data.vocab)
    for name, sp in splits(data).items():
        lengths = [len(text.split()) for text in sp.sentences]
        assert sp.ids.shape[0] == max(lengths), name
        assert sp.ids.min() >= 0 and sp.ids.max() < V
        np.testing.assert_array_equal(sp.mask.sum(axis=0), lengths)
        for n, text in enumerate(sp.sentences):
            words, length = text.split(), lengths[n]
            assert sp.ids[:length, n].tolist() == [data.word_to_id.get(w, 1) for w in words], text
            assert np.all(sp.mask[:length, n] == 1.0) and np.all(sp.mask[length:, n] == 0.0)
            assert np.all(sp.ids[length:, n] == 0)
        assert np.all(sp.ids[sp.mask == 1] != 0), "no real word has the padding id"


def test_training_words_are_known_and_dev_and_test_have_unknown_words(data):
    seen_in_train_once = {w for w, c in Counter(w for t in data.train.sentences for w in t.split()).items() if c == 1}
    assert (data.train.ids == 1).sum() == sum(w in seen_in_train_once for t in data.train.sentences for w in t.split())
    for sp in (data.dev, data.test):
        unknown = [w for t in sp.sentences for w in t.split() if w not in data.word_to_id]
        assert len(unknown) > 0 and (sp.ids == 1).sum() == len(unknown)


def test_encode_pads_with_zero_and_maps_unknown_words_to_one():
    word_to_id = {"<pad>": 0, "<unk>": 1, "good": 2, "film": 3}
    ids, mask = encode([["good", "film", "zzz"], ["film"], []], word_to_id)
    np.testing.assert_array_equal(ids, [[2, 3, 0], [3, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 0], [1, 0, 0], [1, 0, 0]])
    assert ids.dtype == np.int64 and mask.dtype == np.float64
    ids, mask = encode([], word_to_id)
    assert ids.shape == mask.shape == (1, 0)


def test_sentiment_data_encode_splits_on_spaces(data):
    ids, mask = data.encode(["i like this book", "this zzzz is good"])
    w = data.word_to_id
    np.testing.assert_array_equal(ids, [[w["i"], w["this"]], [w["like"], 1], [w["this"], w["is"]],
                                        [w["book"], w["good"]]])
    np.testing.assert_array_equal(mask, np.ones((4, 2)))
    ids, mask = data.encode(["good", "not good at all zzzz"])
    assert ids.shape == (5, 2) and ids[1:, 0].tolist() == [0, 0, 0, 0] and mask[:, 0].tolist() == [1, 0, 0, 0, 0]


def test_load_sentiment_errors():
    for n in (10, 19, 100.0, "6000"):
        with pytest.raises(ValueError, match=rf"^load_sentiment: argument 'n' must be an integer >= 20; "
                                             rf"received {re.escape(repr(n))}"):
            load_sentiment(n=n)
    for split in ((0.5, 0.5), (0.8, 0.3, -0.1), (0.7, 0.2, 0.2)):
        with pytest.raises(ValueError, match=r"^load_sentiment: argument 'split' must be three positive shares "
                                             rf"summing to 1; received {re.escape(repr(split))}"):
            load_sentiment(split=split)
