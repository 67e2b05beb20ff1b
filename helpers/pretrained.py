"""The pretrained model of notebook 06: a character-level LSTM language model of the shared corpus.

Generated text only looks like the corpus after more training than a notebook's time budget allows,
so the course ships one small model, trained by its own reference code (``helpers.rnn_lm.train_lm``
with the LSTM cell of ``helpers.lstm``) on the training split of ``load_char_corpus()``, with one
documented command::

    make pretrained          # = python -m helpers.pretrained: trains, saves, prints the figures

The recipe is ``RECIPE`` (truncated BPTT, SGD with gradient clipping and the learning-rate schedule of
train_lm, the parameters of the epoch with the best dev perplexity).  The model is saved to
``helpers/data/pretrained/char_lstm.npz`` (float32 parameters {E, W_f, U_f, b_f, ..., b_c, U, b2} and a
``meta`` entry: the recipe, the corpus checksum, the measured figures, JSON), written byte for byte
reproducibly (fixed zip timestamps, no training time inside: training is deterministic, so the same NumPy
and BLAS give the same file), with its SHA-256 in ``char_lstm.npz.sha256`` (``sha256sum -c`` format).  ``load_char_lstm()`` is the one way to load it: it checks the checksum, the keys and the
shapes, and says what is wrong with a missing or damaged file and how to rebuild it.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import platform
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from .lstm import KEYS as LSTM_KEYS
from .ngram import EOS                            # </s>, the character alphabet's id 2 too

PATH = Path(__file__).resolve().parent / "data" / "pretrained" / "char_lstm.npz"
V = 31                                            # the character alphabet of helpers.data.chars
#: how ``make pretrained`` trains the model: the arguments of helpers.rnn_lm.train_lm
RECIPE = {"cell": "lstm", "D": 32, "H": 256, "T": 64, "N": 4, "epochs": 30, "lr": 4.0, "clip": 5.0,
          "lr_decay": 0.85, "min_gain": 0.0, "dropout": 0.2, "seed": 0}
REBUILD = ("Rebuild it with `make pretrained` (it trains the model again, about 10 minutes on 2 cores), or "
           "restore the committed files with `git checkout -- helpers/data/pretrained/`.")


def expected_shapes(D=RECIPE["D"], H=RECIPE["H"]) -> dict:
    """{key: shape} of the model's parameters, in the order of the archive."""
    shapes = {"E": (D, V)}
    for key in LSTM_KEYS:
        shapes[key] = {"W": (H, H), "U": (H, D), "b": (H, 1)}[key[0]]
    return {**shapes, "U": (V, H), "b2": (V, 1)}


def sentence_logprobs(params, corpus, split, cell="lstm", block=8192):
    """Natural-log probabilities (corpus.n_tokens(split),) of the predicted tokens of a split under a recurrent
    language model, each sentence read from a fresh state, in the order of NGramModel.grams(corpus, split)
    (each sentence's characters, then its </s>), so that the two models can be compared or mixed token by token.

    Every sentence is read after </s> from the cell's zero state, as an n-gram model reads it after n-1 <s>
    (no context from the sentence before; rnn_lm.token_logprobs instead reads the split as one stream, the
    state carried from sentence to sentence).  Sentences of similar length go through the model together, as
    the columns of one sequence (padded; the padding is not scored), at most ``block`` characters (steps times
    columns, padding included) at a time, which bounds the memory: about 0.8 kB per character for H = 256.
    """
    from . import rnn_lm
    from .cells import get_cell
    cell = get_cell(cell)
    sentences = getattr(corpus, split)
    offsets = np.concatenate([[0], np.cumsum([len(s) + 1 for s in sentences])])
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    H, dtype = params["U"].shape[1], params["U"].dtype
    out = np.empty(offsets[-1])
    while order:
        L = len(sentences[order[0]]) + 1                          # the characters and </s>
        size = 1
        while size < len(order) and (size + 1) * (len(sentences[order[size]]) + 1) <= block:
            size += 1
        group, order = order[:size], order[size:]
        L = len(sentences[group[-1]]) + 1                         # the longest of the group
        ids = np.full((L + 1, len(group)), EOS, dtype=np.int64)   # row 0: the </s> before the sentence
        for n, i in enumerate(group):
            ids[1:len(sentences[i]) + 1, n] = sentences[i]
        scores, _ = rnn_lm.sequence_scores(params, ids[:-1], cell.zero_state(H, len(group), dtype), cell)
        scores = scores.astype(np.float64)
        scores -= scores.max(axis=1, keepdims=True)
        scores -= np.log(np.exp(scores).sum(axis=1, keepdims=True))      # log softmax over the V characters
        log_p = np.take_along_axis(scores, ids[1:, None, :], axis=1)[:, 0]   # (L, group)
        for n, i in enumerate(group):
            out[offsets[i]:offsets[i + 1]] = log_p[:len(sentences[i]) + 1, n]
    return out


def sentence_bits(params, corpus, split, cell="lstm", block=8192) -> float:
    """Held-out bits per character of a recurrent language model, each sentence read from a fresh state:
    the mean of -log2 P over the corpus.n_tokens(split) predicted tokens (see sentence_logprobs)."""
    return float(-np.mean(sentence_logprobs(params, corpus, split, cell, block)) / math.log(2))


def sha256_of(path) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_char_lstm(path=None):
    """The pretrained character LSTM: (params, info).

    params: {E (32, 31), W_f (256, 256), U_f (256, 32), b_f (256, 1), ..., U (31, 256), b2 (31, 1)}, float32,
    for helpers.rnn_lm and helpers.sampling.lm_step(params, "lstm");  info: the archive's ``meta`` (the recipe,
    the corpus it was trained on, the figures measured when it was trained) with "path", "bytes", "sha256".
    path: another archive of the same format (default: the shipped ``PATH``); its checksum is read from the
    file beside it, ``<path>.sha256``.
    Errors: FileNotFoundError for a missing archive or checksum file; ValueError for a checksum that does not
    match (a damaged or replaced file), a file that is not a NumPy archive, missing or unexpected keys, or a
    parameter of the wrong shape; each message names the file and says how to rebuild it.
    """
    fn = "load_char_lstm"
    path = PATH if path is None else Path(path)
    checksum_file = path.with_name(path.name + ".sha256")
    for file, what in ((path, "the pretrained model"), (checksum_file, "the checksum file of the pretrained model")):
        if not file.is_file():
            raise FileNotFoundError(f"{fn}: {what} {file} is missing. {REBUILD}")
    expected = checksum_file.read_text().split()[0] if checksum_file.read_text().split() else "(empty)"
    actual = sha256_of(path)
    if actual != expected:
        raise ValueError(f"{fn}: {path} is damaged or is not the model its checksum file describes: its SHA-256 is "
                         f"{actual}, but {checksum_file.name} says {expected}. {REBUILD}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as err:          # zipfile.BadZipFile, ValueError of a pickled entry, ...
        raise ValueError(f"{fn}: {path} is not a NumPy archive of the pretrained model ({type(err).__name__}: "
                         f"{err}). {REBUILD}") from None
    if "meta" not in arrays:
        raise ValueError(f"{fn}: {path} has no 'meta' entry (the recipe and figures of the model). {REBUILD}")
    info = json.loads(str(arrays.pop("meta")))
    recipe = info.get("recipe", {})
    shapes = expected_shapes(recipe.get("D", RECIPE["D"]), recipe.get("H", RECIPE["H"]))
    missing, unexpected = [k for k in shapes if k not in arrays], sorted(set(arrays) - set(shapes))
    if missing or unexpected:
        raise ValueError(f"{fn}: {path} does not hold the parameters of the character LSTM: "
                         + (f"missing {missing}" if missing else "") + ("; " if missing and unexpected else "")
                         + (f"unexpected {unexpected}" if unexpected else "") + f". {REBUILD}")
    for key, shape in shapes.items():
        arr = arrays[key]
        if arr.shape != shape or arr.dtype != np.float32 or not np.isfinite(arr).all():
            problem = (f"has shape {arr.shape}; expected {shape}" if arr.shape != shape else
                       f"has dtype {arr.dtype}; expected float32" if arr.dtype != np.float32 else
                       "holds values that are not finite")
            raise ValueError(f"{fn}: {path}: parameter {key} {problem} (D = {shapes['E'][0]}, H = {shapes['U'][1]}, "
                             f"V = {V}). {REBUILD}")
    info.update(path=str(path), bytes=path.stat().st_size, sha256=actual)
    return {key: arrays[key] for key in shapes}, info


def save_char_lstm(params, meta, path=None) -> str:
    """Write params and meta (JSON-able) as a compressed NumPy archive, byte for byte reproducible, and its
    checksum file ``<path>.sha256``; returns the SHA-256."""
    path = PATH if path is None else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = {**{key: np.ascontiguousarray(params[key], dtype=np.float32) for key in expected_shapes()
                  if key in params},
               "meta": np.array(json.dumps(meta, sort_keys=True))}
    with zipfile.ZipFile(path, "w") as archive:
        for key, arr in entries.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, arr, allow_pickle=False)
            entry = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, buffer.getvalue(), compresslevel=9)
    digest = sha256_of(path)
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    return digest


def train_char_lstm(corpus=None, progress=True, **changes):
    """Train the model by RECIPE (``changes`` override it, e.g. epochs=1, max_steps=20 for a short test):
    (params, history, meta) with meta the recipe, the corpus and the figures for the archive."""
    from . import rnn_lm
    from .data.chars import load_char_corpus
    corpus = load_char_corpus() if corpus is None else corpus
    recipe = {**RECIPE, **changes}
    settings = {k: v for k, v in recipe.items() if k != "clip"}
    start = time.perf_counter()
    params, history = rnn_lm.train_lm(corpus, clip=("norm", recipe["clip"]), progress=progress, **settings)
    seconds = time.perf_counter() - start
    bits = {split: sentence_bits(params, corpus, split, recipe["cell"]) for split in ("dev", "test")}
    meta = {"model": "character-level LSTM language model, trained by helpers.rnn_lm.train_lm",
            "command": "make pretrained (python -m helpers.pretrained)", "recipe": recipe,
            "corpus": {"source": corpus.source, "checksum": corpus.checksum, "V": corpus.V,
                       "train_characters": corpus.n_tokens("train")},
            "training": {"epochs_run": len(history["dev_ppl"]), "best_epoch": history["best_epoch"],
                         "steps": len(history["loss"]),
                         "dev_bits_per_character": [round(math.log2(p), 4) for p in history["dev_ppl"]],
                         "python": platform.python_version(), "numpy": np.__version__},
            "bits_per_character": {split: round(b, 4) for split, b in bits.items()}}     # by sentence_bits
    history["total_seconds"] = seconds                     # not in meta: the archive's bytes do not depend on it
    return params, history, meta


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the pretrained character LSTM of notebook 06 and save it "
                                                 "(make pretrained).")
    parser.add_argument("--out", type=Path, default=PATH, help=f"the archive to write (default {PATH})")
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"], help="epochs (default: the recipe's)")
    args = parser.parse_args(argv)
    params, history, meta = train_char_lstm(epochs=args.epochs)
    digest = save_char_lstm(params, meta, args.out)
    training, bits = meta["training"], meta["bits_per_character"]
    print(f"trained {training['epochs_run']} epochs ({training['steps']} steps) in {history['total_seconds'] / 60:.1f} "
          f"minutes; best epoch {training['best_epoch'] + 1}: dev {bits['dev']:.3f}, test {bits['test']:.3f} bits per "
          f"character")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
