"""A character-level view of the shared corpus, for the character language models of notebook 06.

The same sentences in the same train/dev/test split as ``load_corpus()`` (both come
from ``corpus.split_sentences``), each written as its lower-case tokens joined by
single spaces, with one character per symbol of a small alphabet:

    id 0 ' ' (space)   1 <s> (start)   2 </s> (end of sentence)   3 '#' (a number, the word corpus's <num>)
    4 "'" (apostrophe)   5..30 'a'..'z'                                              V = 31

A character model has no unknown words: a word that is ``<unk>`` in the word corpus
(seen fewer than ``min_count`` times in training) is spelled out here as written.
As in the word corpus, ids 1 and 2 are the boundaries that ``Corpus.stream`` adds
(n-1 <s> before a sentence, one </s> after it), so ``NGramModel(load_char_corpus(), n)``
is a character n-gram model unchanged.  ``</s>`` is predicted like any character;
<s> never is.  Bits per character = mean negative log-likelihood (nats) over the
predicted characters (``n_tokens``: the letters, spaces, '#' and apostrophes plus one
</s> per sentence) divided by ln 2.

``decode`` writes </s> as a line break and <s> as nothing, so generated text shows
one sentence per line; ``encode`` normalises text as the corpus does (lower case,
punctuation dropped, a number or '#' becomes '#').

Size with Python 3.11.7: 1,514 / 189 / 190 sentences, 144,730 / 17,633 / 17,378
predicted characters in train / dev / test; checksum in ``KNOWN_CHECKSUMS``.  Like
the word corpus, the text comes from ``pydoc_data.topics`` and may change with the
Python version: ``CharCorpus.checksum`` (SHA-256 of the sentences of train, dev
and test in this order, one per line, UTF-8) and ``CharCorpus.source`` say which
one you have.
"""
from __future__ import annotations

import hashlib
import string
import sys
from dataclasses import dataclass

import numpy as np

from .corpus import BOS, EOS, Corpus, split_sentences, text_tokens

NUMBER = "#"
ALPHABET = (" ", BOS, EOS, NUMBER, "'", *string.ascii_lowercase)
#: what decode writes for each id: </s> a line break, <s> nothing
WRITTEN = (" ", "", "\n", *ALPHABET[3:])
#: Python version -> SHA-256 of its character corpus (seed 0, split 80/10/10)
KNOWN_CHECKSUMS = {"3.11.7": "b3e646ba3f33f395e212faf9fa20321f317dc7559b4c7f569e6492db972075b7"}


def sentence_text(tokens) -> str:
    """One sentence of word tokens as the character corpus writes it: joined by spaces, <num> as '#'."""
    return " ".join(NUMBER if t == "<num>" else t for t in tokens)


@dataclass(frozen=True)
class CharCorpus(Corpus):
    """The corpus as characters: train/dev/test hold one int64 array of character ids per sentence
    (no boundaries); ``vocab`` is ALPHABET and ``word_to_id`` (alias ``char_to_id``) maps a symbol
    to its id.  ``stream``, ``long_stream`` and ``n_tokens`` are the word corpus's."""

    @property
    def char_to_id(self) -> dict:
        return self.word_to_id

    def encode(self, text: str):
        """Character ids (m,) of text normalised like a corpus sentence (see the module docstring)."""
        chars = sentence_text(text_tokens(text.replace(NUMBER, " <num> ")))
        return np.array([self.word_to_id[c] for c in chars], dtype=np.int64)

    def decode(self, ids) -> str:
        """The text of character ids: </s> becomes a line break, <s> nothing."""
        return "".join(WRITTEN[i] for i in ids)

    def sentences(self, split: str) -> list:
        """The sentences of a split as strings."""
        return [self.decode(s) for s in getattr(self, split)]


def load_char_corpus(seed=0, split=(0.8, 0.1, 0.1)):
    """The character corpus (see the module docstring): the sentences and split of ``load_corpus(seed=seed,
    split=split)``, deterministic for a Python version, offline."""
    parts = [[sentence_text(s) for s in part] for part in split_sentences(seed, split, fn="load_char_corpus")]
    char_to_id = {c: i for i, c in enumerate(ALPHABET)}

    def ids(part):
        return tuple(np.array([char_to_id[c] for c in s], dtype=np.int64) for s in part)

    digest = hashlib.sha256("\n".join(s for part in parts for s in part).encode()).hexdigest()
    version = ".".join(map(str, sys.version_info[:3]))
    return CharCorpus(*(ids(part) for part in parts), ALPHABET, char_to_id, digest,
                      f"pydoc_data.topics of Python {version}, as characters")


def bits_per_character(model, corpus, split, d=0.75) -> float:
    """Held-out bits per character of an n-gram model's interpolated Kneser-Ney estimate (discount d):
    the mean negative log-likelihood (nats) over the predicted characters of ``split`` divided by ln 2.

    model: a helpers.ngram.NGramModel built on ``corpus`` (a CharCorpus; its keys allow n <= 12 at V = 31).
    """
    if not isinstance(corpus, CharCorpus):
        raise TypeError(f"bits_per_character: argument 'corpus' must be a CharCorpus (load_char_corpus()); "
                        f"received {type(corpus).__name__}")
    if split not in ("train", "dev", "test"):
        raise ValueError(f"bits_per_character: argument 'split' must be 'train', 'dev' or 'test'; received {split!r}")
    nll = -np.mean(np.log(model.kneser_ney(model.grams(corpus, split), d)))
    return float(nll / np.log(2))
