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


SIGNIFICANT = "significant"  # float_format for columns of mixed scale (ranking)


def cell_text(value, float_format: str = "{:,.2f}") -> str:
    """A table cell as text: floats by ``float_format``, NaN empty, the rest ``str``.
    ``SIGNIFICANT``: whole numbers with thousands separators from 100 up (309,111,
    never 3.09e+05), three significant digits below (0.0412, 0.94)."""
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        if float_format == SIGNIFICANT:
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
        return float_format.format(value)
    return str(value)
