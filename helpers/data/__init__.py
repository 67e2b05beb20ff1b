"""Data sets, all generated or shipped offline, each loaded through one function.

- ``toy``: small 2-D and 1-D sets (XOR, circles, a wave) for notebook 01.
- ``sentiment``: labelled review sentences for the text classifier of notebook 02.
- ``corpus``: the word-level language-model corpus of notebooks 03 to 05.
- ``chars``: the same corpus as characters, for the character language models of notebook 06.
"""
from .chars import CharCorpus, load_char_corpus
from .corpus import Corpus, load_corpus
from .sentiment import SentimentData, Split, load_sentiment
from .toy import make_circles, make_wave, make_xor

__all__ = ["CharCorpus", "Corpus", "SentimentData", "Split", "load_char_corpus", "load_corpus", "load_sentiment",
           "make_circles", "make_wave", "make_xor"]
