"""Text corpora for the character-level model: loading, cleaning, vocabulary, splits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tuiapp.errors import DataError

UNKNOWN = "\x00"  # stands for characters rarer than min_char_freq; shown as "�"


def default_corpus() -> Path:
    """The bundled public-domain corpus."""
    from tuiapp.data.sources import sample_dir

    return sample_dir() / "text" / "shakespeare.txt"


@dataclass
class Corpus:
    """A cleaned text, its character vocabulary and the text as indices."""

    path: str
    text: str
    vocab: list[str]

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
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; name a UTF-8 text file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder; name a UTF-8 text file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
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
    return Corpus(str(path), text, vocab)
