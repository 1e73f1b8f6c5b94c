"""A minimal TensorBoard event-file writer in pure Python (no TensorFlow, no tensorboard package).

Event files are TFRecords of `Event` protocol buffers; we write scalars only:
Event{wall_time=1, step=2, file_version=3 | summary=5{value=1{tag=1, simple_value=2}}}.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path


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
