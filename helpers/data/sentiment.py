"""A sentiment data set (情感分类) written by this project, generated deterministically.

Short English reviews such as "i like this book", "the plot is very dull",
"the ending is not good" and "the cast is charming but the script is weak",
labelled 1 (positive) or 0 (negative).  Every sentence has a *kind*:

- ``plain``: one opinion word decides ("this movie is great", "i hate this book");
- ``intensified``: the same with very, really, ... ("a truly awful film");
- ``negated``: "not" flips the opinion ("this story is not boring" is positive);
- ``contrast``: two opposite opinions joined by "but" or "although"; the second
  one decides ("the music is lovely but the plot is dull" is negative).

A bag-of-words model (like the averaged word vectors of notebook 02) can get
plain and intensified sentences right; negation only with a nonlinear hidden
layer (a linear one cannot flip both "good" and "bad"), and contrast never,
since "A but B" and "B but A" have the same words: that is the point of the data set.

The text is generated from word lists and templates in this file; nothing is
downloaded.  ``load_sentiment()`` with its defaults gives 6,000 distinct sentences,
split 70/15/15 into train/dev/test, with a vocabulary built from the training
split (words seen fewer than ``min_count`` times map to ``<unk>``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..validate import require_split

PAD, UNK = "<pad>", "<unk>"
POSITIVE = ("good", "great", "wonderful", "excellent", "enjoyable", "brilliant", "charming", "delightful",
            "moving", "funny", "clever", "beautiful", "fascinating", "gripping", "touching", "superb", "lovely",
            "fun", "smart", "fresh")
NEGATIVE = ("bad", "boring", "awful", "terrible", "dull", "weak", "predictable", "tedious", "poor", "silly",
            "messy", "bland", "slow", "annoying", "disappointing", "clumsy", "forgettable", "shallow",
            "confusing", "flat")
RARE_POSITIVE = ("sublime", "riveting", "heartfelt", "witty", "masterful", "uplifting")
RARE_NEGATIVE = ("dreadful", "tiresome", "lifeless", "clunky", "insipid", "muddled")
# seen once or twice in 6,000 sentences: some occur only in dev or test and become <unk>
SCARCE_POSITIVE = ("stellar", "exquisite", "poignant", "dazzling", "spellbinding", "luminous", "absorbing",
                   "tender", "joyous", "vivid")
SCARCE_NEGATIVE = ("turgid", "vapid", "plodding", "grating", "lackluster", "overlong", "stilted", "hollow",
                   "limp", "soggy")
NOUNS = ("book", "movie", "film", "story", "novel", "plot", "ending", "script", "soundtrack", "series",
         "play", "album", "dialogue", "performance", "music", "cast", "acting", "show")
DETERMINERS = ("this", "the", "that")
INTENSIFIERS = ("very", "really", "truly", "quite", "extremely", "so", "incredibly")
LIKE = ("like", "love", "enjoy", "recommend", "adore")
DISLIKE = ("hate", "dislike", "regret")
PREFIXES = ("honestly", "overall", "i think", "in short", "to be fair", "frankly")
KINDS = ("plain", "intensified", "negated", "contrast")
SHARE = {"plain": 0.40, "intensified": 0.20, "negated": 0.20, "contrast": 0.20}


class _Writer:
    """Draws words and sentences from one random generator."""

    def __init__(self, rng):
        self.rng = rng

    def pick(self, words):
        return words[self.rng.integers(len(words))]

    def opinion(self, positive):
        """An opinion adjective of the given polarity: 5% of the time a rare one, 0.4% a scarce one."""
        common, rare, scarce = ((POSITIVE, RARE_POSITIVE, SCARCE_POSITIVE) if positive
                                else (NEGATIVE, RARE_NEGATIVE, SCARCE_NEGATIVE))
        r = self.rng.random()
        return self.pick(scarce if r < 0.004 else rare if r < 0.054 else common)

    def thing(self):
        return f"{self.pick(DETERMINERS)} {self.pick(NOUNS)}"

    def clause(self, positive, intensify=False):
        """'the plot is (very) dull' or 'a (very) dull plot'."""
        adj = self.opinion(positive)
        if intensify:
            adj = f"{self.pick(INTENSIFIERS)} {adj}"
        if self.rng.random() < 0.75:
            return f"{self.thing()} {self.pick(('is', 'was'))} {adj}"
        article = "an" if adj[0] in "aeiou" else "a"
        return f"{self.pick(('', 'what '))}{article} {adj} {self.pick(NOUNS)}"

    def sentence(self, kind):
        """(text, label) of one sentence of the given kind."""
        positive = bool(self.rng.integers(2))
        r = self.rng.random()
        if kind in ("plain", "intensified"):
            intensify = kind == "intensified"
            if r < 0.3:
                verb = self.pick(LIKE if positive else DISLIKE)
                text = f"i {'really ' if intensify else ''}{verb} {self.thing()}"
            elif r < 0.45:
                adj = f"{self.pick(INTENSIFIERS)} {self.opinion(positive)}" if intensify else self.opinion(positive)
                text = f"{self.thing()} is {adj} and {self.opinion(positive)}"
            else:
                text = self.clause(positive, intensify)
        elif kind == "negated":  # the opinion word has the opposite polarity of the label
            if r < 0.3:
                text = f"i do not {self.pick(DISLIKE if positive else LIKE)} {self.thing()}"
            elif r < 0.45:
                text = f"{self.thing()} is not {self.pick(INTENSIFIERS)} {self.opinion(not positive)}"
            else:
                text = f"{self.thing()} {self.pick(('is', 'was'))} not {self.opinion(not positive)}"
        else:  # contrast: the second opinion decides
            first, second = self.clause(not positive), self.opinion(positive)
            if r < 0.4:
                text = f"{first} but {self.thing()} is {second}"
            elif r < 0.7:
                text = f"{first} but {self.pick(('it is', 'it was', 'also'))} {second}"
            else:
                text = f"although {first} , it is {second}"
        if self.rng.random() < 0.15:
            text = f"{self.pick(PREFIXES)} {text}"
        return text, int(positive)


@dataclass(frozen=True)
class Split:
    """One split, time-major and padded (see docs/conventions.md).

    ids: (T, N) int word ids, 0 (<pad>) after the end of a sentence;
    mask: (T, N) float, 1.0 on real words and 0.0 on padding;
    y: (1, N) float labels in {0, 1};  kinds: (N,) the kind of each sentence;
    sentences: the N texts.
    """

    ids: np.ndarray
    mask: np.ndarray
    y: np.ndarray
    kinds: np.ndarray
    sentences: tuple

    def __len__(self):
        return len(self.sentences)


@dataclass(frozen=True)
class SentimentData:
    """train/dev/test splits, the vocabulary (id -> word) and its inverse, and a checksum of the text."""

    train: Split
    dev: Split
    test: Split
    vocab: tuple
    word_to_id: dict
    checksum: str

    def encode(self, sentences):
        """Word ids (T, N) and mask (T, N) for a list of sentences (lower-case words split on spaces)."""
        return encode([s.split() for s in sentences], self.word_to_id)


def encode(token_lists, word_to_id):
    """Pad a list of N token lists into ids (T, N) int64 and mask (T, N) float64; unknown words -> <unk>."""
    T = max(1, max((len(t) for t in token_lists), default=1))
    ids = np.zeros((T, len(token_lists)), dtype=np.int64)
    mask = np.zeros((T, len(token_lists)))
    for n, tokens in enumerate(token_lists):
        ids[:len(tokens), n] = [word_to_id.get(w, word_to_id[UNK]) for w in tokens]
        mask[:len(tokens), n] = 1.0
    return ids, mask


def generate_sentences(n=6000, seed=0):
    """n distinct (text, label, kind) triples, in random order, with the shares of SHARE."""
    writer = _Writer(np.random.default_rng(seed))
    seen, rows = set(), []
    for kind in KINDS:
        target, made, tries = round(n * SHARE[kind]), 0, 0
        while made < target and tries < 50 * n:
            text, label = writer.sentence(kind)
            tries += 1
            if text not in seen:
                seen.add(text)
                rows.append((text, label, kind))
                made += 1
    order = writer.rng.permutation(len(rows))
    return [rows[i] for i in order]


def load_sentiment(n=6000, seed=0, min_count=2, split=(0.7, 0.15, 0.15)):
    """The sentiment data set: SentimentData with train/dev/test splits and a vocabulary.

    Vocabulary: <pad> = 0, <unk> = 1, then the training words seen at least
    ``min_count`` times, most frequent first (ties alphabetical).
    checksum: SHA-256 of the generated text with labels and kinds, for reproducibility.
    """
    if not isinstance(n, (int, np.integer)) or n < 20:
        raise ValueError(f"load_sentiment: argument 'n' must be an integer >= 20; received {n!r}")
    split = require_split(split, "load_sentiment")
    rows = generate_sentences(n, seed)
    cut1, cut2 = int(split[0] * len(rows)), int((split[0] + split[1]) * len(rows))
    parts = rows[:cut1], rows[cut1:cut2], rows[cut2:]
    counts = {}
    for text, _, _ in parts[0]:
        for w in text.split():
            counts[w] = counts.get(w, 0) + 1
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    vocab = (PAD, UNK, *words)
    word_to_id = {w: i for i, w in enumerate(vocab)}

    def make_split(part):
        ids, mask = encode([text.split() for text, _, _ in part], word_to_id)
        y = np.array([[label for _, label, _ in part]], dtype=np.float64)
        return Split(ids, mask, y, np.array([kind for _, _, kind in part]), tuple(t for t, _, _ in part))

    digest = hashlib.sha256("\n".join(f"{l}\t{k}\t{t}" for t, l, k in rows).encode()).hexdigest()
    return SentimentData(*(make_split(p) for p in parts), vocab, word_to_id, digest)
