"""helpers.data.chars: the character view of the shared corpus holds the word corpus's sentences in the
same splits (word for word, <unk> words spelled out), a 31-symbol alphabet, encode and decode inverse to
each other, a checksum of the documented text, and works unchanged as the corpus of an n-gram model
(bits per character against a sum of sentence log-probabilities)."""
import hashlib
import math
import string
import sys

import numpy as np
import pytest

from helpers.data.chars import ALPHABET, KNOWN_CHECKSUMS, CharCorpus, bits_per_character, load_char_corpus
from helpers.data.corpus import load_corpus
from helpers.ngram import NGramModel, next_word_distribution, sentence_logprob

SPLITS = ("train", "dev", "test")


@pytest.fixture(scope="module")
def chars():
    return load_char_corpus()


@pytest.fixture(scope="module")
def words():
    return load_corpus()


def test_the_alphabet():
    assert ALPHABET == (" ", "<s>", "</s>", "#", "'", *"abcdefghijklmnopqrstuvwxyz")


def test_corpus_fields(chars):
    assert isinstance(chars, CharCorpus) and chars.V == 31 and chars.vocab == ALPHABET
    assert chars.char_to_id == {c: i for i, c in enumerate(ALPHABET)}
    assert chars.source.startswith("pydoc_data.topics of Python ")


@pytest.mark.parametrize("split", SPLITS)
def test_every_sentence_is_the_word_corpus_sentence_word_for_word(chars, words, split):
    char_sentences, word_sentences = chars.sentences(split), getattr(words, split)
    assert len(char_sentences) == len(word_sentences) > 100
    unk = 0
    for text, ids in zip(char_sentences, word_sentences):
        tokens = ["<num>" if w == "#" else w for w in text.split(" ")]
        assert [words.word_to_id.get(w, 0) for w in tokens] == ids.tolist()
        unk += sum(w not in words.word_to_id for w in tokens)
    if split != "train":
        assert unk > 0, "words that are <unk> in the word corpus are spelled out"


def test_sentences_are_lower_case_words_joined_by_single_spaces(chars):
    allowed = set(string.ascii_lowercase + "#' ")
    for split in SPLITS:
        for ids, text in zip(getattr(chars, split), chars.sentences(split)):
            assert ids.dtype == np.int64 and ids.min() >= 0 and ids.max() < 31
            assert not np.isin(ids, [1, 2]).any(), "no boundaries inside a sentence"
            assert set(text) <= allowed and text == " ".join(text.split()) and len(text.split()) >= 3


def test_splits_are_disjoint_and_have_the_word_corpus_sizes(chars, words):
    sets = {s: set(chars.sentences(s)) for s in SPLITS}
    for s in SPLITS:
        assert len(sets[s]) == len(getattr(chars, s)) == len(getattr(words, s)), "no sentence twice"
    assert not sets["train"] & sets["dev"] and not sets["train"] & sets["test"] and not sets["dev"] & sets["test"]


def test_decode_and_encode_are_inverse_on_every_sentence(chars):
    for split in SPLITS:
        for ids in getattr(chars, split):
            text = chars.decode(ids)
            assert chars.decode(chars.encode(text)) == text
            np.testing.assert_array_equal(chars.encode(text), ids)


@pytest.mark.parametrize("text, expected", [
    ("Is it 3 or 42 items?", "is it # or # items"),
    ("Don't  STOP:\nnow", "don't stop now"),
    ("version #, then 3.11", "version # then # #"),
    ("a#b", "a # b"),
    ("", ""),
])
def test_encode_normalises_like_the_corpus(chars, text, expected):
    ids = chars.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(expected),)
    assert "".join(ALPHABET[i] for i in ids) == expected


def test_decode_writes_the_end_of_a_sentence_as_a_line_break_and_the_start_as_nothing(chars):
    ids, _ = chars.stream("dev", 3)
    assert chars.decode(ids) == "".join(s + "\n" for s in chars.sentences("dev"))
    assert chars.decode([1, 9, 1, 2, 0, 3, 4]) == "e\n #'"


def test_n_tokens_counts_the_characters_and_one_end_per_sentence(chars):
    for split in SPLITS:
        assert chars.n_tokens(split) == sum(len(s) + 1 for s in chars.sentences(split))


def test_checksum_is_the_sha256_of_the_documented_text_and_stable(chars):
    text = "\n".join(s for split in SPLITS for s in chars.sentences(split))
    assert chars.checksum == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert load_char_corpus().checksum == chars.checksum
    version = ".".join(map(str, sys.version_info[:3]))
    if version in KNOWN_CHECKSUMS:
        assert chars.checksum == KNOWN_CHECKSUMS[version]
    other = load_char_corpus(seed=1)
    assert other.checksum != chars.checksum
    assert sorted(other.sentences("train") + other.sentences("dev") + other.sentences("test")) == \
        sorted(text.split("\n"))


def test_seed_and_split_follow_the_word_corpus(words):
    chars, words = load_char_corpus(seed=3, split=(0.6, 0.2, 0.2)), load_corpus(seed=3, split=(0.6, 0.2, 0.2))
    for split in SPLITS:
        assert [len(s.split(" ")) for s in chars.sentences(split)] == [len(s) for s in getattr(words, split)]


def test_load_char_corpus_checks_its_split():
    with pytest.raises(ValueError, match=r"^load_char_corpus: argument 'split' must be three positive shares "
                                         r"summing to 1; received \(0.5, 0.5\)"):
        load_char_corpus(split=(0.5, 0.5))


# ---------------------------------------------------------------- the character n-gram model


@pytest.mark.parametrize("n", [1, 3, 6])
def test_kneser_ney_on_characters_is_a_distribution_over_the_30_predicted_symbols(chars, n):
    model = NGramModel(chars, n)
    assert model.V_out == 30
    for prompt in ("", "the valu", "qx'z"):
        p = next_word_distribution(model, chars.encode(prompt))
        assert p[1] == 0 and (p[np.arange(31) != 1] > 0).all()
        assert p.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n", [2, 5])
def test_bits_per_character_is_the_sum_of_sentence_log_probabilities(chars, n):
    model = NGramModel(chars, n)
    logprob = math.fsum(sentence_logprob(lambda g: model.kneser_ney(g, 0.6), s, n) for s in chars.dev)
    expected = -logprob / chars.n_tokens("dev") / math.log(2)
    assert bits_per_character(model, chars, "dev", d=0.6) == pytest.approx(expected, rel=1e-12)


def test_longer_contexts_predict_characters_better(chars):
    bits = [bits_per_character(NGramModel(chars, n), chars, "test") for n in (1, 2, 5)]
    assert math.log2(30) > bits[0] > bits[1] > bits[2] > 1.0


def test_bits_per_character_checks_its_arguments(chars, words):
    model = NGramModel(chars, 2)
    with pytest.raises(TypeError, match=r"^bits_per_character: argument 'corpus' must be a CharCorpus"):
        bits_per_character(model, words, "dev")
    with pytest.raises(ValueError, match=r"^bits_per_character: argument 'split' must be 'train', 'dev' or 'test'; "
                                         r"received 'valid'"):
        bits_per_character(model, chars, "valid")
