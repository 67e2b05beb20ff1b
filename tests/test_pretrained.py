"""helpers.pretrained: the shipped character LSTM loads with its checksum and shapes, every damage to the
archive is named with how to rebuild it, the archive is written byte for byte reproducibly, and the training
recipe still produces a working model of the same format (a short schedule); sentence_bits against a loop
over sentences.  Also what notebook 06 added to its building blocks: train_lm on the character corpus with a
callback and dropout (gradients with dropout against central differences), and lm_step's stacked LSTM and GRU
steps against the cells' own step functions."""
import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import pretrained as pt
from helpers import rnn_lm, sampling
from helpers.cells import get_cell
from helpers.data.chars import load_char_corpus
from helpers.gradcheck import gradcheck
from helpers.ngram import NGramModel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus():
    return load_char_corpus()


@pytest.fixture(scope="module")
def shipped():
    return pt.load_char_lstm()


def copy_of_the_model(tmp_path):
    target = tmp_path / "model.npz"
    shutil.copy(pt.PATH, target)
    shutil.copy(pt.PATH.with_name(pt.PATH.name + ".sha256"), tmp_path / "model.npz.sha256")
    return target


# ---------------------------------------------------------------- the shipped model


def test_the_shipped_model_loads_with_its_checksum_and_shapes(shipped):
    params, info = shipped
    assert list(params) == list(pt.expected_shapes())
    assert {k: v.shape for k, v in params.items()} == pt.expected_shapes()
    assert all(v.dtype == np.float32 for v in params.values())
    sidecar = pt.PATH.with_name("char_lstm.npz.sha256").read_text().split()
    assert sidecar == [info["sha256"], "char_lstm.npz"] and info["sha256"] == pt.sha256_of(pt.PATH)
    assert info["bytes"] == pt.PATH.stat().st_size < 1_300_000, "about 1 MB"
    assert info["recipe"] == pt.RECIPE and info["command"].startswith("make pretrained")


def test_the_readme_documents_the_model_and_its_checksum(shipped):
    readme = (ROOT / "README.md").read_text()
    assert "make pretrained" in readme and shipped[1]["sha256"] in readme


def test_the_shipped_model_beats_a_unigram_model_and_generates(shipped, corpus):
    params, info = shipped
    bits = pt.sentence_bits(params, dataclasses.replace(corpus, test=corpus.test[:40]), "test")
    assert bits < 2.5, "a trained model: far below the 4.2 bits of the unigram distribution"
    if info["corpus"]["checksum"] == corpus.checksum:
        assert pt.sentence_bits(params, corpus, "test") == pytest.approx(info["bits_per_character"]["test"], abs=2e-4)
    step = sampling.lm_step(params, "lstm")
    prompt = np.tile(np.array([2, 24, 12, 9])[:, None], (1, 2))          # '</s>the' twice
    ids = sampling.generate(step, get_cell("lstm").zero_state(256, 2, np.float32), prompt, 200,
                            sampling.sampler(0.5), np.random.default_rng(0))
    text = corpus.decode(ids[:, 0])
    assert ids.shape == (200, 2) and " the " in text, text


# ---------------------------------------------------------------- damaged or missing files


def test_a_missing_model_says_how_to_rebuild_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^load_char_lstm: the pretrained model .*nothing\.npz is missing\. "
                                                r"Rebuild it with `make pretrained`"):
        pt.load_char_lstm(tmp_path / "nothing.npz")


def test_a_missing_checksum_file(tmp_path):
    path = copy_of_the_model(tmp_path)
    (tmp_path / "model.npz.sha256").unlink()
    with pytest.raises(FileNotFoundError, match=r"^load_char_lstm: the checksum file of the pretrained model "
                                                r".*model\.npz\.sha256 is missing\. Rebuild it with `make pretrained`"):
        pt.load_char_lstm(path)


def test_a_damaged_file_fails_its_checksum(tmp_path):
    path = copy_of_the_model(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    expected = pt.sha256_of(pt.PATH)
    with pytest.raises(ValueError, match=rf"^load_char_lstm: .*model\.npz is damaged or is not the model its checksum "
                                         rf"file describes: its SHA-256 is {pt.sha256_of(path)}, but "
                                         rf"model\.npz\.sha256 says {expected}\. Rebuild it with `make pretrained`"):
        pt.load_char_lstm(path)


def test_a_truncated_file_fails_its_checksum(tmp_path):
    path = copy_of_the_model(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"is damaged or is not the model its checksum file describes"):
        pt.load_char_lstm(path)


def with_own_checksum(path):
    path.with_name(path.name + ".sha256").write_text(f"{pt.sha256_of(path)}  {path.name}\n")
    return path


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04 a broken zip"])
def test_a_file_that_is_not_an_archive(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"^load_char_lstm: .*model\.npz is not a NumPy archive of the pretrained model "
                                         r"\(\w+: .*\)\. Rebuild it"):
        pt.load_char_lstm(with_own_checksum(path))
    np.save(path.with_suffix(".npy"), np.zeros(3))
    path.write_bytes(path.with_suffix(".npy").read_bytes())            # one array, not an archive
    with pytest.raises(ValueError, match=r"is not a NumPy archive of the pretrained model"):
        pt.load_char_lstm(with_own_checksum(path))


@pytest.mark.parametrize("change, message", [
    (lambda p: {**p, "U": p["U"][:, :128]}, r"parameter U has shape \(31, 128\); expected \(31, 256\) \(D = 32, "
                                            r"H = 256, V = 31\)"),
    (lambda p: {**p, "W_f": p["W_f"].T[:, :255]}, r"parameter W_f has shape \(256, 255\); expected \(256, 256\)"),
    (lambda p: {k: v for k, v in p.items() if k not in ("W_f", "b2")},
     r"does not hold the parameters of the character LSTM: missing \['W_f', 'b2'\]"),
])
def test_wrong_keys_or_shapes_are_named(shipped, tmp_path, change, message):
    params, info = shipped
    path = tmp_path / "model.npz"
    pt.save_char_lstm(change(params), {"recipe": pt.RECIPE}, path)
    with pytest.raises(ValueError, match=message + r".*Rebuild it with `make pretrained`"):
        pt.load_char_lstm(path)


def test_unexpected_entries_no_meta_and_other_dtypes_are_named(shipped, tmp_path):
    params, _ = shipped
    path = tmp_path / "model.npz"
    np.savez(path, meta=np.array("{}"), Wx=np.zeros((2, 2), np.float32), **params)
    with pytest.raises(ValueError, match=r"does not hold the parameters of the character LSTM: unexpected \['Wx'\]"):
        pt.load_char_lstm(with_own_checksum(path))
    np.savez(path, **params)
    with pytest.raises(ValueError, match=r"has no 'meta' entry"):
        pt.load_char_lstm(with_own_checksum(path))
    np.savez(path, meta=np.array("{}"), **{**params, "E": params["E"].astype(np.float64)})
    with pytest.raises(ValueError, match=r"parameter E has dtype float64; expected float32"):
        pt.load_char_lstm(with_own_checksum(path))
    np.savez(path, meta=np.array("{}"), **{**params, "b2": np.full((31, 1), np.nan, np.float32)})
    with pytest.raises(ValueError, match=r"parameter b2 holds values that are not finite"):
        pt.load_char_lstm(with_own_checksum(path))


# ---------------------------------------------------------------- writing and retraining


def test_the_archive_is_written_byte_for_byte_reproducibly(shipped, tmp_path):
    params, info = shipped
    meta = {k: v for k, v in info.items() if k not in ("path", "bytes", "sha256")}
    first = pt.save_char_lstm(params, meta, tmp_path / "a.npz")
    second = pt.save_char_lstm(params, meta, tmp_path / "b.npz")
    assert first == second == pt.sha256_of(tmp_path / "a.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert first == info["sha256"], "the shipped archive is exactly what save_char_lstm writes"
    loaded, again = pt.load_char_lstm(tmp_path / "a.npz")
    assert all(np.array_equal(loaded[k], params[k]) for k in params) and again["recipe"] == info["recipe"]


def test_a_short_schedule_of_the_recipe_gives_a_working_model_of_the_same_format(corpus, tmp_path):
    params, history, meta = pt.train_char_lstm(corpus, progress=False, epochs=1, max_steps=12)
    assert len(history["loss"]) == 12 and history["diverged"] is None
    assert meta["recipe"] == {**pt.RECIPE, "epochs": 1, "max_steps": 12}
    assert meta["corpus"]["checksum"] == corpus.checksum and meta["training"]["steps"] == 12
    digest = pt.save_char_lstm(params, meta, tmp_path / "short.npz")
    loaded, info = pt.load_char_lstm(tmp_path / "short.npz")
    assert info["sha256"] == digest
    assert {k: (v.shape, v.dtype) for k, v in loaded.items()} == \
        {k: (shape, np.dtype(np.float32)) for k, shape in pt.expected_shapes().items()}
    bits = meta["bits_per_character"]
    assert math.isfinite(bits["dev"]) and bits["dev"] < math.log2(30), "better than a uniform guess"
    assert pt.sentence_bits(loaded, corpus, "dev") == pytest.approx(bits["dev"], abs=1e-4)
    ids = sampling.generate(sampling.lm_step(loaded, "lstm"), get_cell("lstm").zero_state(256, 1, np.float32),
                            np.array([2]), 50, sampling.sampler(1.0), np.random.default_rng(0))
    assert ids.shape == (50,) and ids.min() >= 0 and ids.max() < 31


# ---------------------------------------------------------------- sentence_bits


def test_sentence_bits_against_a_loop_over_sentences(corpus):
    few = dataclasses.replace(corpus, dev=corpus.dev[:9])
    for cell in ("lstm", "gru"):
        params = rnn_lm.init_lm(31, 5, 6, cell, seed=3, dtype=np.float64)
        params["b2"] = np.random.default_rng(1).normal(size=(31, 1))
        total = 0.0
        for sentence in few.dev:
            stream = np.concatenate([[2], sentence, [2]])           # read after </s>, predict the characters and </s>
            total += rnn_lm.stream_logprobs(params, stream, cell).sum()
        expected = -total / few.n_tokens("dev") / math.log(2)
        for block in (1, 200, 8192):                                      # 1: one sentence at a time
            assert pt.sentence_bits(params, few, "dev", cell, block=block) == pytest.approx(expected, rel=1e-12)


def test_sentence_logprobs_are_aligned_with_the_ngram_grams(corpus):
    few = dataclasses.replace(corpus, dev=corpus.dev[:7])
    params = rnn_lm.init_lm(31, 5, 6, "lstm", seed=3, dtype=np.float64)
    logp = pt.sentence_logprobs(params, few, "dev", block=300)
    grams = NGramModel(few, 2).grams(few, "dev")                           # (previous, predicted) per token
    assert logp.shape == (few.n_tokens("dev"),) == (len(grams),)
    position = 0
    for sentence in few.dev:                                              # each sentence alone, token by token
        stream = np.concatenate([[2], sentence, [2]])
        expected = rnn_lm.stream_logprobs(params, stream, "lstm")
        np.testing.assert_allclose(logp[position:position + len(expected)], expected, rtol=1e-12)
        np.testing.assert_array_equal(grams[position:position + len(expected), 1], stream[1:])
        position += len(expected)


# ---------------------------------------------------------------- train_lm: callback and dropout


def test_train_lm_on_the_character_corpus_calls_back_after_each_epoch(corpus):
    small = dataclasses.replace(corpus, train=corpus.train[:60], dev=corpus.dev[:10])
    calls = []

    def callback(epoch, params, history):
        calls.append((epoch, len(history["dev_ppl"]), params["U"].shape))

    params, history = rnn_lm.train_lm(small, cell="gru", D=4, H=8, T=8, N=4, epochs=3, progress=False, callback=callback)
    assert calls == [(0, 1, (31, 8)), (1, 2, (31, 8)), (2, 3, (31, 8))]
    assert history["dev_ppl"][-1] < 31


def test_dropout_gradients_against_central_differences():
    cell = get_cell("lstm")
    params = rnn_lm.init_lm(7, 3, 4, "lstm", seed=1)
    ids = np.random.default_rng(0).integers(0, 7, size=(6, 3))
    state0 = cell.zero_state(4, 3)

    def loss(p, grads=False):               # the same masks at every evaluation: a fresh generator of one seed
        out = rnn_lm._sequence_loss(rnn_lm._split_params(p, cell, "test"), cell, ids[:-1], ids[1:], state0, 0, 0.4,
                                    np.random.default_rng(5))
        return out if grads else out[0]

    J, grads, _ = loss(params, grads=True)
    assert J != pytest.approx(rnn_lm.lm_loss(params, ids, state0, "lstm")[0]), "the masks change the loss"
    report = gradcheck(loss, {k: v.copy() for k, v in params.items()}, grads)
    assert report.passed, report


def test_dropout_rate_zero_is_training_without_dropout(corpus):
    small = dataclasses.replace(corpus, train=corpus.train[:40], dev=corpus.dev[:5])
    runs = [rnn_lm.train_lm(small, D=4, H=8, T=8, N=4, epochs=1, progress=False, **kw)[1]["loss"]
            for kw in ({}, {"dropout": 0.0}, {"dropout": 0.3})]
    assert runs[0] == runs[1] and runs[2] != runs[0]


@pytest.mark.parametrize("dropout", [1.0, -0.1, True, "0.2"])
def test_train_lm_checks_dropout_and_callback(corpus, dropout):
    with pytest.raises(ValueError, match=r"^train_lm: argument 'dropout' must be a number in \[0, 1\)"):
        rnn_lm.train_lm(corpus, dropout=dropout, progress=False)
    with pytest.raises(TypeError, match=r"^train_lm: argument 'callback' must be None or a function"):
        rnn_lm.train_lm(corpus, callback=3, progress=False)


# ---------------------------------------------------------------- lm_step's stacked gated cells


@pytest.mark.parametrize("name", ["lstm", "gru"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lm_step_of_a_gated_cell_is_the_cells_own_step(name, dtype):
    cell = get_cell(name)
    params = rnn_lm.init_lm(11, 5, 7, name, seed=2, dtype=dtype)
    params["b2"] = np.random.default_rng(0).normal(size=(11, 1)).astype(dtype)
    fast = sampling.lm_step(params, name)

    def slow(ids, state):
        h, state = cell.step(params["E"][:, ids], state, params)
        return params["U"] @ h + params["b2"], state

    rng = np.random.default_rng(4)
    a = b = cell.zero_state(7, 3, dtype)
    for _ in range(12):
        ids = rng.integers(0, 11, size=3)
        (la, a), (lb, b) = fast(ids, a), slow(ids, b)
        np.testing.assert_array_equal(la, lb)
        assert la.dtype == dtype
    for x, y in zip(*(s if isinstance(s, tuple) else (s,) for s in (a, b))):
        np.testing.assert_array_equal(x, y)


def test_lm_step_checks_the_gated_parameters_once():
    params = rnn_lm.init_lm(11, 5, 7, "lstm", seed=2)
    params["W_i"] = params["W_i"][:, :6]
    with pytest.raises(ValueError, match=r"^lm_step: argument 'params\['W_i'\]' must have shape \(7, 7\)"):
        sampling.lm_step(params, "lstm")
