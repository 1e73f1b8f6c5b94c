"""A minimal TensorBoard event-file writer in pure Python (no TensorFlow, no tensorboard package).

Event files are TFRecords of `Event` protocol buffers; we write scalars only:
Event{wall_time=1, step=2, file_version=3 | summary=5{value=1{tag=1, simple_value=2}}}.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path
from typing import Any


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint((number << 3) | wire) + payload


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2, _varint(len(data)) + data)


def _event(wall_time: float, step: int, body: bytes) -> bytes:
    return _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step)) + body


class EventFileWriter:
    """Writes scalar summaries to events.out.tfevents.* in a folder."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
        self._file = open(self.path, "wb")
        self._write(_event(time.time(), 0, _bytes_field(3, b"brain.Event:2")))

    def _write(self, record: bytes) -> None:
        header = struct.pack("<Q", len(record))
        self._file.write(header + struct.pack("<I", _masked(header)) + record + struct.pack("<I", _masked(record)))

    def scalar(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """One scalar point."""
        summary_value = _bytes_field(1, tag.encode()) + _field(2, 5, struct.pack("<f", value))
        summary = _bytes_field(1, summary_value)
        self._write(_event(wall_time or time.time(), step, _bytes_field(5, summary)))

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()


def has_tensorboardx() -> bool:
    """Whether the full writer (hparams, histograms, images, text) can be used: `pip install "tuiapp[tensorboard]"`."""
    import importlib.util

    return importlib.util.find_spec("tensorboardX") is not None


def hparams_of(config: dict) -> dict:
    """A run's settings as TensorBoard hparams (numbers, strings and booleans; lists written as text)."""
    out = {"arch": config.get("arch"), "preset": config.get("preset") or "", "data": config.get("data") or ""}
    for key, value in sorted(config.get("hp", {}).items()):
        out[key] = ",".join(map(str, value)) if isinstance(value, list) else value
    return {k: v for k, v in out.items() if isinstance(v, (int, float, str, bool))}


def _confusion_image(matrix: list[list[int]]) -> Any:
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    rows = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    return np.kron(rows, np.ones((12, 12)))  # HW in [0, 1], 12 pixels a cell


def _grid_image(images: list) -> Any:
    import numpy as np

    tiles = [np.asarray(im, dtype=float) / 255.0 for im in images[:25]]
    while len(tiles) % 5:
        tiles.append(np.zeros((28, 28)))
    rows = [np.hstack(tiles[i:i + 5]) for i in range(0, len(tiles), 5)]
    return np.vstack(rows)


def write_run(record: Any, events: list[dict], folder: Path) -> tuple[Path, bool]:
    """A run's events as TensorBoard event files in `folder`: scalars always; with tensorboardX also its hparams
    and final metrics (the HParams tab), weight histograms per epoch, confusion matrices and misclassified images
    as images, and text samples. Returns the folder and whether the full writer was used."""
    epochs = [e for e in events if e["type"] == "epoch"]
    full = has_tensorboardx()
    if full:
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams

        writer: Any = SummaryWriter(str(folder), flush_secs=3600)

        def scalar(tag: str, value: float, step: int, wall: float) -> None:
            writer.add_scalar(tag, value, step, walltime=wall)
    else:
        plain = EventFileWriter(folder)
        scalar = plain.scalar
    for event in events:
        kind = event["type"]
        if kind == "batch":
            step = (event["epoch"] - 1) * event["batches"] + event["batch"]
            for key in ("loss", "accuracy"):
                if event.get(key) is not None:
                    scalar(f"batch/{key}", event[key], step, event["t"])
        elif kind == "epoch":
            for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "samples_per_s"):
                if event.get(key) is not None:
                    scalar(f"epoch/{key}", event[key], event["epoch"], event["t"])
        elif kind == "test":
            for key, value in event.items():
                if key.startswith("test_") and isinstance(value, (int, float)):
                    scalar(f"test/{key[5:]}", value, max(len(epochs), 1), event["t"])
        elif not full:
            continue
        elif kind == "weights":
            for layer in event["layers"]:
                hist = layer.get("hist")
                if hist and layer.get("params"):
                    n, mean, std = layer["params"], layer["mean"], layer["std"]
                    writer.add_histogram_raw(f"weights/{layer['layer']}/{layer['weight']}", layer["min"], layer["max"],
                                             n, mean * n, (std**2 + mean**2) * n, hist["edges"][1:], hist["counts"],
                                             event["epoch"], walltime=event["t"])
        elif kind == "confusion":
            writer.add_image(f"confusion/{event['split']}", _confusion_image(event["matrix"]), event["epoch"],
                             walltime=event["t"], dataformats="HW")
        elif kind == "misclassified":
            images = _misclassified_images(event)
            if images:
                writer.add_image("misclassified/test", _grid_image(images), max(len(epochs), 1),
                                 walltime=event["t"], dataformats="HW")
        elif kind == "text":
            writer.add_text(f"samples/T={event.get('temperature')}", event["sample"], event.get("epoch") or 0,
                            walltime=event["t"])
    if not full:
        plain.close()
        return folder, False
    metrics = {f"test/{k[5:]}": v for k, v in record.metrics.items() if k.startswith("test_") and
               isinstance(v, (int, float))}
    if record.metrics.get("best_val_accuracy") is not None:
        metrics["best_val_accuracy"] = record.metrics["best_val_accuracy"]
    exp, start, end = hparams(hparams_of(record.config.to_dict()), metrics)
    file_writer = writer._get_file_writer()
    for summary in (exp, start, end):
        file_writer.add_summary(summary)
    for tag, value in metrics.items():
        if tag == "best_val_accuracy":
            writer.add_scalar(tag, value, max(len(epochs), 1))
    writer.close()
    return folder, True


def _misclassified_images(event: dict) -> list:
    try:
        from tuiapp.data import load_images
        from tuiapp.data.sources import Source

        data = load_images(Source(**event["source"]))
        return [data.x_test[item["index"]] for item in event["items"]]
    except Exception:  # the data moved: the export goes on without the picture
        return []
