"""The word-level language-model corpus of notebooks 03 to 05: English prose from the
Python standard library, loaded offline.

Source: ``pydoc_data.topics``, the reference-manual text behind ``help()`` that
every CPython installation ships (about 465,000 characters in Python 3.11).  It
is real English prose written by people, has no licence or download issue, and is
present wherever the course runs.  Its text changes between Python versions, so
the corpus (and every perplexity) is reproducible for a given Python version;
``Corpus.checksum`` and ``Corpus.source`` say which one you have.

Tokeniser (分词), documented and deterministic:

1. topics in sorted order; per topic, drop code and grammar blocks (lines indented
   by 3 or more spaces, or starting with ``>>>``) and reST underlines (lines of
   ``*``, ``=``, ``-``, ``~``) together with the heading above them;
2. paragraphs (separated by blank lines) are split into sentences after ``.``,
   ``!``, ``?`` or ``:`` followed by a space;
3. a sentence is lower-cased; its tokens are the words ``[a-z]+('[a-z]+)?``, and
   every number becomes ``<num>``; punctuation is dropped;
4. sentences of fewer than 3 tokens are dropped, and a sentence that occurs again
   (the manual repeats some sections under several topics) is kept once, so no
   sentence is in two splits.

Sentences are shuffled with a fixed seed and split 80/10/10 into train/dev/test.
The vocabulary holds the training words seen at least ``min_count`` times;
others map to ``<unk>``.  Ids: 0 ``<unk>``, 1 ``<s>`` (start), 2 ``</s>`` (end).
A sentence is stored as its word ids without boundary tokens; ``Corpus.stream``
adds them.
"""
from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass

import numpy as np

from ..validate import require_positive_int, require_split

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
_UNDERLINE = re.compile(r"^\s*([*=\-~^])\1{2,}\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")
_TOKEN = re.compile(r"<num>|[a-z]+(?:'[a-z]+)?|\d+")  # <num> itself, so decoded text encodes back


def _prose_paragraphs(text):
    """Paragraphs of prose in one topic: code blocks, grammar and headings removed."""
    lines = text.split("\n")
    keep = []
    for i, line in enumerate(lines):
        heading = i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1])
        code = line.startswith("   ") or line.lstrip().startswith(">>>")
        keep.append("" if heading or code or _UNDERLINE.match(line) else line)
    return [" ".join(p.split()) for p in "\n".join(keep).split("\n\n") if p.strip()]


def text_tokens(text):
    """The tokens of one piece of text (rule 3 of the module docstring): lower-case words, numbers -> <num>."""
    return ["<num>" if t.isdigit() else t for t in _TOKEN.findall(text.lower())]


def tokenize(text):
    """Sentences of ``text`` as lists of lower-case tokens, by the rules in the module docstring."""
    sentences = []
    for paragraph in _prose_paragraphs(text):
        for sentence in _SENTENCE_END.split(paragraph):
            tokens = text_tokens(sentence)
            if len(tokens) >= 3:
                sentences.append(tokens)
    return sentences


@dataclass(frozen=True)
class Corpus:
    """train/dev/test: tuples of sentences, each an int64 array of word ids (no boundaries)."""

    train: tuple
    dev: tuple
    test: tuple
    vocab: tuple
    word_to_id: dict
    checksum: str
    source: str

    @property
    def V(self) -> int:
        return len(self.vocab)

    def stream(self, split: str, n: int = 2):
        """One split as a flat id stream in which every sentence is preceded by n-1 <s> and
        followed by one </s>.  Returns (ids, sentence) as (L,) int64 arrays: the id and the
        sentence index of each position, so n-grams can be kept inside sentences."""
        sentences = getattr(self, split)
        pad = max(n - 1, 1)
        lengths = np.array([len(s) + pad + 1 for s in sentences])
        ids = np.concatenate([np.concatenate([np.full(pad, 1), s, [2]]) for s in sentences]).astype(np.int64)
        return ids, np.repeat(np.arange(len(sentences)), lengths)

    def long_stream(self, split: str, n: int, length: int):
        """``stream(split, n)`` repeated until it has ``length`` positions (cut there), each copy with
        its own sentence indices: a stream of any size for timing, e.g. a million tokens."""
        ids, sentence = self.stream(split, n)
        copies = -(-length // len(ids))
        offsets = np.arange(copies)[:, None] * (sentence[-1] + 1)
        return np.tile(ids, copies)[:length], (offsets + sentence[None, :]).ravel()[:length]

    def n_tokens(self, split: str) -> int:
        """Tokens a model predicts in a split: the words plus one </s> per sentence."""
        return int(sum(len(s) + 1 for s in getattr(self, split)))

    def encode(self, text: str):
        """Word ids (m,) of a sentence, one per token of text_tokens(text) (unknown words -> <unk>)."""
        return np.array([self.word_to_id.get(t, 0) for t in text_tokens(text)], dtype=np.int64)

    def decode(self, ids) -> str:
        return " ".join(self.vocab[i] for i in ids)


def split_sentences(seed=0, split=(0.8, 0.1, 0.1), *, fn="split_sentences"):
    """The corpus's sentences as lists of tokens (rules 1-4 of the module docstring), shuffled with
    ``seed`` and split: (train, dev, test), three lists.  The word and the character corpus share it."""
    import pydoc_data.topics

    split = require_split(split, fn)
    topics = pydoc_data.topics.topics
    unique = {" ".join(s): s for key in sorted(topics) for s in tokenize(topics[key])}  # first occurrence kept
    sentences = list(unique.values())
    order = np.random.default_rng(seed).permutation(len(sentences))
    sentences = [sentences[i] for i in order]
    cut1, cut2 = int(split[0] * len(sentences)), int((split[0] + split[1]) * len(sentences))
    return sentences[:cut1], sentences[cut1:cut2], sentences[cut2:]


def load_corpus(min_count=2, seed=0, split=(0.8, 0.1, 0.1)):
    """The corpus of notebooks 03-05 (see the module docstring), deterministic for a Python version."""
    require_positive_int(min_count, "min_count", "load_corpus")
    train, dev, test = split_sentences(seed, split, fn="load_corpus")
    sentences = train + dev + test
    counts = {}
    for s in train:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    vocab = (UNK, BOS, EOS, *words)
    word_to_id = {w: i for i, w in enumerate(vocab)}

    def ids(part):
        return tuple(np.array([word_to_id.get(w, 0) for w in s], dtype=np.int64) for s in part)

    digest = hashlib.sha256("\n".join(" ".join(s) for s in sentences).encode()).hexdigest()
    version = ".".join(map(str, sys.version_info[:3]))
    return Corpus(ids(train), ids(dev), ids(test), vocab, word_to_id, digest, f"pydoc_data.topics of Python {version}")
