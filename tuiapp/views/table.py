"""Tables that fit a terminal: columns dropped by priority, text wrapped at word boundaries, numbers never cut.

Light on purpose (Rich only): the CLI's `runs`, `show` and `models` use it without NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

GAP = 2  # spaces between columns


@dataclass(frozen=True)
class Column:
    """A column: header, alignment, priority (0: always shown; higher: dropped first when narrow), and
    whether its text may wrap at word boundaries (otherwise a cell is never cut or wrapped)."""

    name: str
    justify: str = "left"
    priority: int = 0
    wrap: bool = False
    min_width: int = 16


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _natural(columns: list[Column], rows: list[list[Any]]) -> tuple[list[list[str]], list[int]]:
    text = [[_plain(row[i]) for row in rows] for i in range(len(columns))]
    return text, [max([len(c.name)] + [len(t) for t in text[i]]) for i, c in enumerate(columns)]


def choose_columns(columns: list[Column], rows: list[list[Any]], width: int | None, gap: int = GAP) -> list[int]:
    """Indices of the columns that fit in `width`, dropping the highest priorities first."""
    text, natural = _natural(columns, rows)

    def floor(i: int) -> int:
        if not columns[i].wrap:
            return natural[i]
        longest_word = max((len(word) for cell in text[i] for word in cell.split()), default=0)
        return max(len(columns[i].name), min(natural[i], columns[i].min_width), longest_word)

    keep = list(range(len(columns)))
    while width is not None and sum(floor(i) for i in keep) + gap * (len(keep) - 1) > width \
            and any(columns[i].priority > 0 for i in keep):
        keep.remove(max((i for i in keep if columns[i].priority > 0), key=lambda i: (columns[i].priority, i)))
    return keep


def fit_table(columns: list[Column], rows: list[list[Any]], width: int | None) -> tuple[Table, list[str]]:
    """A borderless table within `width` (None: any width), and the names of the columns it left out."""
    text, natural = _natural(columns, rows)

    keep = choose_columns(columns, rows, width)
    wrappers = [i for i in keep if columns[i].wrap]
    fixed = sum(natural[i] for i in keep if not columns[i].wrap) + GAP * (len(keep) - 1)
    room = None if width is None or not wrappers else max(8, (width - fixed) // len(wrappers))
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, GAP // 2), collapse_padding=False)
    for i in keep:
        c = columns[i]
        if c.wrap and room is not None and natural[i] > room:
            longest_word = max((len(word) for cell in text[i] for word in cell.split()), default=0)
            table.add_column(c.name, justify=c.justify, overflow="fold", width=max(room, longest_word))
        else:
            table.add_column(c.name, justify=c.justify, no_wrap=True, min_width=natural[i])
    for row in rows:
        table.add_row(*[row[i] for i in keep])
    return table, [columns[i].name for i in range(len(columns)) if i not in keep]
