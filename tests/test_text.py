"""The lyrics generator: corpus handling, the NumPy sampler against Keras, a short real run."""

from __future__ import annotations

import numpy as np
import pytest

from models.sampler import CharSampler
from tuiapp.data.text import UNKNOWN, load_corpus
from tuiapp.errors import DataError

from .conftest import json_lines, run_cli


def test_corpus_options(tmp_path):
    path = tmp_path / "lyrics.txt"
    path.write_text("Hello World\nhello again\n~", encoding="utf-8")
    book = load_corpus(path, lowercase=True, keep_newlines=False, seq_length=5)
    assert "\n" not in book.text and book.text.startswith("hello world hello")
    kept = load_corpus(path, lowercase=False, keep_newlines=True, seq_length=5)
    assert "\n" in kept.text and "H" in kept.vocab
    rare = load_corpus(path, min_char_freq=2, seq_length=5)
    assert rare.vocab[0] == UNKNOWN and "~" not in rare.vocab
    assert rare.decode(rare.encode("l~")) == "l" + UNKNOWN
    train, val = kept.split(0.25)
    assert len(train) + len(val) == len(kept.text) and kept.decode(val) == kept.text[len(train):]


@pytest.mark.parametrize("content,message", [
    (b"", "the file is empty"),
    (b"   \n\n", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks like a binary file"),
    ("café".encode("latin-1") + b" and more text here", "not UTF-8 text"),
    (b"short", "shorter than one training sequence of 26"),
])
def test_bad_corpora_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_corpus(path, seq_length=25)
    with pytest.raises(DataError, match="file not found"):
        load_corpus(tmp_path / "missing.txt")


@pytest.mark.parametrize("cell,activation,embedding", [("lstm", "tanh", 8), ("lstm", "relu", 0), ("gru", "tanh", 0)])
def test_numpy_sampler_matches_keras(cell, activation, embedding):
    from models.char_lstm import build

    hp = {"cell": cell, "units": [12, 10], "activation": activation, "embedding": embedding, "seq_length": 7}
    model = build(hp, {"vocab_size": 9})
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.4, w.shape) for w in model.get_weights()])
    ids = rng.integers(0, 9, size=(1, 7))
    expected = np.asarray(model.predict(ids, verbose=0))[0]  # (steps, vocab)
    sampler = CharSampler.from_weights(model.get_weights(), list("abcdefghi"), cell, activation, bool(embedding))
    got = np.stack([sampler.step(int(i)) for i in ids[0]])
    assert np.max(np.abs(got - expected)) < 1e-5


def test_short_run_learns_and_samples_from_its_vocabulary(home, tmp_path):
    out = run_cli(home, "train", "char-lstm", "--preset", "modern", "--epochs", "2", "--set", "units=64",
                  "--set", "seq_length=50", "--json")
    assert out.returncode == 0, out.stderr
    lines = json_lines(out.stdout)
    data = next(e for e in lines if e["type"] == "data")
    epochs = [e for e in lines if e["type"] == "epoch"]
    assert epochs[-1]["val_loss"] < data["unigram_entropy"]  # it learned more than character frequencies
    assert abs(epochs[-1]["val_bits"] - epochs[-1]["val_loss"] / np.log(2)) < 1e-9
    texts = [e for e in lines if e["type"] == "text"]
    assert {t["temperature"] for t in texts} == {0.5, 1.0} and {t["epoch"] for t in texts} == {1, 2}
    vocab = set(data["vocab"])
    assert all(set(t["sample"]) <= vocab for t in texts)
    assert "lyrics.txt" in data["describe"]  # the presets learn the bundled lyrics
    assert all(t["real_words"] is None or 0 <= t["real_words"] <= 1 for t in texts)
    run_id = lines[-1]["run"]
    generated = run_cli(home, "generate", run_id, "--seed", "First Citizen:", "--length", "300",
                        "--temperature", "0.8", "--top-k", "5", "--random-seed", "3")
    assert generated.returncode == 0, generated.stderr
    body = generated.stdout[len("First Citizen:"):].rstrip("\n")
    assert len(body) == 300 and set(body) <= vocab
    again = run_cli(home, "generate", run_id, "--seed", "First Citizen:", "--length", "300",
                    "--temperature", "0.8", "--top-k", "5", "--random-seed", "3")
    assert again.stdout == generated.stdout
    not_text = run_cli(home, "generate", "nope")
    assert not_text.returncode == 2 and "unknown run 'nope'" in not_text.stderr


def test_text_errors_through_the_cli(home, tmp_path):
    binary = tmp_path / "song.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    out = run_cli(home, "train", "char-lstm", "--text", str(binary))
    assert out.returncode == 2 and "looks like a binary file" in out.stderr and "Traceback" not in out.stderr


def test_the_presets_learn_lyrics_and_shakespeare_is_the_second_choice(home):
    from tuiapp.config import RunConfig
    from tuiapp.data.text import corpus_path

    for preset in ("book", "modern"):
        config = RunConfig.create("char-lstm", preset)
        assert config.hp["corpus"] == "lyrics" and corpus_path(config.text, config.hp).endswith("lyrics.txt")
    second = RunConfig.create("char-lstm", "book", sets=["corpus=shakespeare"])
    assert corpus_path(second.text, second.hp).endswith("shakespeare.txt")
    assert second.data_info()["vocab_size"] != RunConfig.create("char-lstm", "book").data_info()["vocab_size"]
    recorded = RunConfig.create("char-lstm", "book").to_dict()  # a run recorded before the choice existed
    del recorded["hp"]["corpus"]
    assert RunConfig.from_dict(recorded).hp["corpus"] == "shakespeare"  # resumes on the text it learned
    lyrics = load_corpus(corpus_path(None, {"corpus": "lyrics"}), lowercase=False, keep_newlines=True)
    assert "Chorus" in lyrics.text and "auld lang syne" in lyrics.text  # songs, with their refrains
    listed = run_cli(home, "data", "list", COLUMNS="200")
    assert listed.returncode == 0 and "Burns" in listed.stdout and "corpus=shakespeare" in listed.stdout
    bad = run_cli(home, "train", "char-lstm", "--set", "corpus=poems")
    assert bad.returncode == 2 and "lyrics" in bad.stderr and "Traceback" not in bad.stderr


def test_real_words_measure_how_far_samples_moved_towards_the_corpus():
    from tuiapp.data.text import real_word_share, words_of
    from tuiapp.views.render import word_progress

    known = words_of("My heart's in the Highlands, a-chasing the deer")
    assert real_word_share("xx the highlands chasing deer yy", known) == 1.0
    assert real_word_share("xx thq hghlnds chasing dxr yy", known) == 0.25
    assert real_word_share("a o e", known) is None  # no word of three letters or more between the ends
    samples = [{"epoch": e, "temperature": t, "real_words": w}
               for e, t, w in ((1, 0.5, 0.05), (1, 1.0, 0.01), (2, 0.5, 0.4), (3, 0.5, 0.7))]
    assert word_progress(samples) == "real words in the samples (T=0.5), by epoch: 1: 5% → 2: 40% → 3: 70%"
    many = [{"epoch": e, "temperature": 0.5, "real_words": e / 100} for e in range(1, 31)]
    shown = word_progress(many)
    assert shown.count("→") == 7 and "1: 1%" in shown and "30: 30%" in shown
