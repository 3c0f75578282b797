"""What a report section holds, whatever it is written to: paragraphs, tables and
figures. :mod:`sim.report.html` and :mod:`sim.report.pdf` render the same blocks, so
the HTML page and the A4 PDF say the same things in the same order."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Text", "Table", "Figure", "Section", "cell_text"]


@dataclass(frozen=True)
class Text:
    """A paragraph; ``style`` "verdict" for a verdict line."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Table:
    """A table; floats shown with ``float_format``; ``meta`` for the key/value table of
    the question (no header row)."""

    frame: pd.DataFrame
    float_format: str = "{:,.2f}"
    meta: bool = False


@dataclass(frozen=True)
class Figure:
    """A PNG figure (bytes) and its caption."""

    png: bytes
    caption: str


Section = tuple[str, list[Text | Table | Figure]]


def cell_text(value, float_format: str = "{:,.2f}") -> str:
    """A table cell as text: floats by ``float_format``, NaN empty, the rest ``str``."""
    if isinstance(value, float):
        return "" if pd.isna(value) else float_format.format(value)
    return str(value)
