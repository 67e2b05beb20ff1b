"""Data sets, all generated or shipped offline, each loaded through one function.

- ``toy``: small 2-D and 1-D sets (XOR, circles, a wave) for notebook 01.
- ``sentiment``: labelled review sentences for the text classifier of notebook 02.
"""
from .sentiment import SentimentData, Split, load_sentiment
from .toy import make_circles, make_wave, make_xor

__all__ = ["SentimentData", "Split", "load_sentiment", "make_circles", "make_wave", "make_xor"]
