"""helpers.data.corpus: the tokeniser's rules on a handcrafted text, and the corpus of notebooks 03-05:
deterministic, no sentence in two splits, the special ids, min_count, the padded stream, encode/decode.

The corpus checksum is not pinned: the corpus is built from pydoc_data.topics, whose text changes
between Python versions, so the checksum (and every perplexity) is only fixed for one Python version."""
import re
import sys
from collections import Counter

import numpy as np
import pytest

from helpers.data.corpus import BOS, EOS, UNK, Corpus, load_corpus, text_tokens, tokenize

TEXT = """Heading of the topic
********************

The first sentence has five words. A second one: it follows here!
Is it 3 or 42 items? Yes.

   code = "indented by three spaces, dropped"
   more code here too

  >>> print("a prompt line is dropped")

Section title
=============

Don't stop: numbers like 3.11 become two tokens.
  Two spaces of indent is still prose, said Guido.
It's the user's choice.
"""

SENTENCES = [
    ["the", "first", "sentence", "has", "five", "words"],
    ["a", "second", "one"],
    ["it", "follows", "here"],
    ["is", "it", "<num>", "or", "<num>", "items"],
    # "Yes." and "Don't stop:" have fewer than 3 tokens
    ["numbers", "like", "<num>", "<num>", "become", "two", "tokens"],
    ["two", "spaces", "of", "indent", "is", "still", "prose", "said", "guido"],
    ["it's", "the", "user's", "choice"],
]


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


@pytest.fixture(scope="module")
def corpus_all_words():
    """min_count=1: the same sentences in the same splits, every training word in the vocabulary."""
    return load_corpus(min_count=1)


def as_tuples(sentences):
    return [tuple(int(i) for i in s) for s in sentences]


# ---------------------------------------------------------------- the tokeniser


def test_tokenize_follows_the_documented_rules():
    assert tokenize(TEXT) == SENTENCES


@pytest.mark.parametrize("text, expected", [
    ("Heading here\n-----------\n\nkept words are three.", [["kept", "words", "are", "three"]]),
    # a dropped code line leaves a blank line, which ends the paragraph
    ("prose line one\n    four spaces of code\nprose line two", [["prose", "line", "one"], ["prose", "line", "two"]]),
    ("Title words here\n~~~~~~~~~~~~~~~~\nbody text of it", [["body", "text", "of", "it"]]),
    ("One two three? four five six! seven eight nine", [["one", "two", "three"], ["four", "five", "six"],
                                                        ["seven", "eight", "nine"]]),
    ("A, b; c (d) -- e.", [["a", "b", "c", "d", "e"]]),
    ("Two words.", []),
    ("", []),
])
def test_tokenize_single_rules(text, expected):
    assert tokenize(text) == expected


def test_text_tokens_lower_cases_drops_punctuation_and_replaces_numbers():
    assert text_tokens("The VALUE of x[3] is 42, isn't it?") == ["the", "value", "of", "x", "<num>", "is", "<num>",
                                                                  "isn't", "it"]
    assert text_tokens("") == []


# ---------------------------------------------------------------- the corpus


def test_two_loads_are_equal(corpus):
    # the checksum is compared between two loads, not pinned: it depends on the Python version's pydoc_data
    again = load_corpus()
    assert again.checksum == corpus.checksum and len(corpus.checksum) == 64
    assert again.vocab == corpus.vocab and again.word_to_id == corpus.word_to_id
    for split in ("train", "dev", "test"):
        a, b = getattr(corpus, split), getattr(again, split)
        assert len(a) == len(b) > 0
        assert all(x.dtype == np.int64 and np.array_equal(x, y) for x, y in zip(a, b))


def test_another_seed_shuffles_differently(corpus):
    other = load_corpus(seed=1)
    assert other.checksum != corpus.checksum
    assert sorted(len(s) for s in other.train + other.dev + other.test) == \
        sorted(len(s) for s in corpus.train + corpus.dev + corpus.test)


def test_source_names_the_python_version(corpus):
    version = ".".join(map(str, sys.version_info[:3]))
    assert corpus.source == f"pydoc_data.topics of Python {version}"


def test_sentences_are_the_distinct_tokenised_sentences_of_the_topics(corpus_all_words):
    import pydoc_data.topics

    topics = pydoc_data.topics.topics
    distinct = {tuple(s) for key in topics for s in tokenize(topics[key])}
    c = corpus_all_words  # every training word is in its vocabulary, so training sentences decode exactly
    train = [tuple(c.vocab[i] for i in s) for s in c.train]
    assert len(set(train)) == len(train) and set(train) <= distinct
    # each distinct sentence is used once, in one split (dev/test words unseen in training read as <unk>)
    as_read = Counter(tuple(w if w in c.word_to_id else UNK for w in s) for s in distinct)
    assert as_read == Counter(tuple(c.vocab[i] for i in s) for s in c.train + c.dev + c.test)
    assert all(len(s) >= 3 for s in distinct)
    total = len(distinct)
    assert (len(c.train), len(c.dev)) == (int(0.8 * total), int(0.9 * total) - int(0.8 * total))


def test_no_sentence_in_two_splits(corpus):
    # sentences without <unk> are determined by their ids (with <unk>, two sentences may share ids)
    splits = {name: {s for s in as_tuples(getattr(corpus, name)) if 0 not in s} for name in ("train", "dev", "test")}
    assert not splits["train"] & splits["dev"] and not splits["train"] & splits["test"]
    assert not splits["dev"] & splits["test"]
    assert all(len(s) > 50 for s in splits.values())


def test_special_ids(corpus):
    assert corpus.vocab[:3] == (UNK, BOS, EOS) == ("<unk>", "<s>", "</s>")
    assert [corpus.word_to_id[w] for w in (UNK, BOS, EOS)] == [0, 1, 2]
    assert corpus.V == len(corpus.vocab) == len(corpus.word_to_id) > 500
    assert all(corpus.word_to_id[w] == i for i, w in enumerate(corpus.vocab))
    # stored sentences have no boundary tokens
    assert all(s.size and s.min() >= 0 and not np.isin(s, [1, 2]).any() and s.max() < corpus.V
               for s in corpus.train + corpus.dev + corpus.test)


@pytest.mark.parametrize("min_count", [2, 3, 5])
def test_min_count_keeps_exactly_the_frequent_training_words(min_count, corpus_all_words):
    c = load_corpus(min_count=min_count)
    words = Counter(corpus_all_words.vocab[i] for s in corpus_all_words.train for i in s)
    assert set(c.vocab[3:]) == {w for w, n in words.items() if n >= min_count}
    counts = Counter(c.vocab[i] for s in c.train for i in s)
    assert all(counts[w] >= min_count for w in c.vocab[3:])
    assert counts[UNK] == sum(n for n in words.values() if n < min_count) > 0
    # the same sentences, rare words read as <unk>
    for split in ("train", "dev", "test"):
        for full, reduced in zip(getattr(corpus_all_words, split), getattr(c, split)):
            assert [w if w in c.word_to_id else UNK for w in (corpus_all_words.vocab[i] for i in full)] == \
                [c.vocab[i] for i in reduced]


def test_min_count_one_has_no_unknown_training_word(corpus_all_words):
    assert not any((s == 0).any() for s in corpus_all_words.train)
    assert any((s == 0).any() for s in corpus_all_words.dev + corpus_all_words.test)  # words only seen in dev/test


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", None])
def test_min_count_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match=rf"^load_corpus: argument 'min_count' must be a positive integer; "
                                         rf"received {re.escape(repr(bad))}$"):
        load_corpus(min_count=bad)


# ---------------------------------------------------------------- stream, n_tokens, encode, decode


def tiny_corpus():
    vocab = ("<unk>", "<s>", "</s>", "a", "b", "c")
    train = (np.array([3, 4]), np.array([5]), np.array([3, 0, 5]))
    return Corpus(train, (np.array([4, 4, 4]),), (), vocab, {w: i for i, w in enumerate(vocab)}, "", "test")


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_stream_pads_every_sentence(n):
    c = tiny_corpus()
    ids, sentence = c.stream("train", n)
    pad = max(n - 1, 1)
    expected_ids, expected_sentence = [], []
    for j, s in enumerate(c.train):
        padded = [1] * pad + list(s) + [2]
        expected_ids += padded
        expected_sentence += [j] * len(padded)
    assert ids.dtype == sentence.dtype == np.int64
    assert ids.tolist() == expected_ids and sentence.tolist() == expected_sentence


def test_n_tokens_counts_the_words_and_one_end_per_sentence(corpus):
    c = tiny_corpus()
    assert c.n_tokens("train") == 3 + 2 + 4 and c.n_tokens("dev") == 4 and c.n_tokens("test") == 0
    for split in ("train", "dev", "test"):
        ids, _ = corpus.stream(split, 3)
        assert corpus.n_tokens(split) == int(np.sum(ids != 1)) == sum(len(s) + 1 for s in getattr(corpus, split))


def test_encode_and_decode(corpus):
    words = [w for w in corpus.vocab[3:] if w != "<num>"][:6]
    text = " ".join(words).upper() + ", 2024."
    ids = corpus.encode(text)
    assert ids.dtype == np.int64
    assert ids.tolist() == [corpus.word_to_id[w] for w in words] + [corpus.word_to_id["<num>"]]
    assert corpus.decode(ids) == " ".join(words) + " <num>"
    assert corpus.encode("qqqzzz the").tolist() == [0, corpus.word_to_id["the"]]
    assert corpus.encode("").shape == (0,) and corpus.decode([]) == ""
    for s in corpus.dev:  # every sentence without <unk> reads back, <num> included
        if not (s == 0).any():
            np.testing.assert_array_equal(corpus.encode(corpus.decode(s)), s)
    assert corpus.encode("<num> items").tolist() == [corpus.word_to_id["<num>"], corpus.word_to_id.get("items", 0)]



def test_long_stream_repeats_the_stream_with_new_sentence_indices(corpus):
    ids, sentence = corpus.stream("dev", 3)
    length = 2 * len(ids) + 5
    long_ids, long_sentence = corpus.long_stream("dev", 3, length)
    assert len(long_ids) == len(long_sentence) == length
    np.testing.assert_array_equal(long_ids[:len(ids)], ids)
    np.testing.assert_array_equal(long_ids[len(ids):2 * len(ids)], ids)
    np.testing.assert_array_equal(long_sentence[len(ids):2 * len(ids)], sentence + len(corpus.dev))
    assert np.all(np.diff(long_sentence) >= 0)  # windows cannot join two copies
