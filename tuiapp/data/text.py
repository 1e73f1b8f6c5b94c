"""Text corpora for the character-level model: loading, cleaning, vocabulary, splits."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tuiapp.errors import DataError

MAX_TEXT_BYTES = 32 * 1024 * 1024  # a corpus larger than this is cut here (and the run says so)
UNKNOWN = "\x00"  # stands for characters rarer than min_char_freq; shown as "�"


CORPORA = {"lyrics": "lyrics.txt", "shakespeare": "shakespeare.txt"}  # bundled texts (sample_data/manifest.json)


def default_corpus(name: str = "lyrics") -> Path:
    """A bundled public-domain corpus: Burns's songs (lyrics, the default) or Shakespeare's plays."""
    from tuiapp.data.sources import sample_dir

    if name not in CORPORA:
        raise DataError(f"unknown corpus {name!r}; bundled: {', '.join(CORPORA)} (or --text FILE)")
    return sample_dir() / "text" / CORPORA[name]


def corpus_path(text: str | None, hp: dict) -> str:
    """The file a text run learns: its --text file, else the bundled corpus its hyperparameters name."""
    return text or str(default_corpus(hp.get("corpus", "shakespeare")))


@dataclass
class Corpus:
    """A cleaned text, its character vocabulary and the text as indices."""

    path: str
    text: str
    vocab: list[str]
    note: str | None = None  # set when only the start of a very large file was read

    @property
    def index(self) -> dict[str, int]:
        """Character to index."""
        return {ch: i for i, ch in enumerate(self.vocab)}

    def encode(self, text: str) -> np.ndarray:
        """Indices of the characters of `text` (unknown characters map to the unknown symbol)."""
        index = self.index
        unk = index.get(UNKNOWN, 0)
        return np.fromiter((index.get(ch, unk) for ch in text), dtype=np.int32, count=len(text))

    def decode(self, ids: np.ndarray | list[int]) -> str:
        """Characters of a sequence of indices."""
        return "".join(self.vocab[i] for i in ids)

    def split(self, validation: float) -> tuple[np.ndarray, np.ndarray]:
        """Train and validation index arrays, split by position (validation is the end)."""
        ids = self.encode(self.text)
        cut = len(ids) - int(len(ids) * validation)
        return ids[:cut], ids[cut:]


def clean(text: str, lowercase: bool, keep_newlines: bool) -> str:
    """Apply the corpus options: lower-casing and dropping line breaks (the book's version)."""
    if lowercase:
        text = text.lower()
    if not keep_newlines:
        text = " ".join(text.split("\n"))
    return text


def load_corpus(
    path: str | Path | None,
    lowercase: bool = True,
    keep_newlines: bool = False,
    min_char_freq: int = 1,
    seq_length: int = 25,
    vocab: list[str] | None = None,
) -> Corpus:
    """Read a UTF-8 text file and build its vocabulary, with one clear error for bad files."""
    path = Path(path) if path else default_corpus()
    raw, size = _read_capped(path)
    note = None
    if size > MAX_TEXT_BYTES:
        note = (f"only the first {MAX_TEXT_BYTES // 2**20} MiB of {size / 2**20:,.0f} MiB were read "
                f"(the limit for a corpus)")
        raw = _whole_chars(raw[:MAX_TEXT_BYTES])
    if not raw.strip():
        raise DataError(f"{path}: the file is empty; a corpus needs text to learn from")
    if b"\x00" in raw[:65536]:
        raise DataError(f"{path}: looks like a binary file (it holds NUL bytes); name a UTF-8 text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded); convert it to UTF-8") from None
    text = clean(text, lowercase, keep_newlines)
    if len(text) <= seq_length + 1:
        raise DataError(
            f"{path}: only {len(text)} characters, shorter than one training sequence of {seq_length + 1}; "
            "use a longer text or a smaller seq_length"
        )
    if vocab is None:
        counts = Counter(text)
        vocab = sorted(ch for ch, n in counts.items() if n >= min_char_freq)
        if len(vocab) < len(counts):
            vocab = [UNKNOWN, *vocab]
    return Corpus(str(path), text, vocab, note)


def _read_capped(path: Path) -> tuple[bytes, int]:
    """At most MAX_TEXT_BYTES (+1) of a regular file, and its size; one clear error for anything else."""
    import stat

    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise DataError(f"{path}: is a folder; name a UTF-8 text file")
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"{path}: is not a regular file (a device, pipe or socket); name a UTF-8 text file")
        with open(path, "rb") as handle:
            return handle.read(MAX_TEXT_BYTES + 1), info.st_size
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; name a UTF-8 text file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None


def _whole_chars(data: bytes) -> bytes:
    """Drop a UTF-8 character split by a cut at the end."""
    last = len(data) - 1
    while last > len(data) - 4 and last > 0 and (data[last] & 0xC0) == 0x80:
        last -= 1
    lead = data[last] if data else 0
    need = 1 if lead < 0x80 else 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4 if lead >> 3 == 0b11110 else 1
    return data[:last] if last + need > len(data) else data


WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")  # letters, with inner apostrophes (o'er, ye'll)


MIN_WORD = 3


def words_of(text: str) -> set[str]:
    """The distinct words of a text, lower-cased."""
    return set(WORD.findall(text.lower()))


def real_word_share(sample: str, known: set[str]) -> float | None:
    """The share of a generated sample's words that occur in the corpus (None: no words): how far the samples
    have moved from random characters towards the corpus' words. The first and last words are left out (the
    sample starts inside the seed's last word and may stop inside a word), and so are words under 3 letters (a
    random "a" or "o" is a word)."""
    words = [w for w in WORD.findall(sample.lower())[1:-1] if len(w) >= MIN_WORD]
    return None if not words else sum(1 for w in words if w in known) / len(words)


def read_vocab(path: Path) -> list[str] | None:
    """A run's saved vocabulary, checked; None when there is none."""
    import json

    try:
        vocab = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DataError(f"{path}: not a readable vocabulary ({exc})") from None
    if not isinstance(vocab, list) or not vocab or not all(isinstance(c, str) and len(c) == 1 for c in vocab) \
            or len(set(vocab)) != len(vocab):
        raise DataError(f"{path}: not a list of distinct single characters, as a run writes it")
    return vocab


def clean_seed(seed: str, hp: dict) -> str:
    """Apply a run's corpus options (its hyperparameters) to seed text, as its training text was."""
    return clean(seed, hp.get("lowercase", False), hp.get("keep_newlines", True))
