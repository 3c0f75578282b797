"""The report's tables in one Excel workbook (openpyxl): a sheet per table, named
as its CSV in tables/, a bold header row, numbers as numbers.

Excel has no infinity: an infinite value (an unbounded interval end) is written
as the text "inf" or "-inf"; a missing value as an empty cell.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.results import atomic_write_bytes

__all__ = ["write_workbook", "excel_value"]

MAX_WIDTH = 48  # characters: wider columns wrap in Excel rather than run off the screen


def excel_value(value):
    """A cell value Excel can hold: Python numbers and booleans, text, None for
    missing; numpy scalars unwrapped; +-inf as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


def _width(text: str) -> int:
    """Display width in Excel columns: East Asian characters count twice."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def write_workbook(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write ``tables`` (sheet name -> frame) to ``path`` as an .xlsx workbook.

    Parameters
    ----------
    path : Path
        The workbook to write (atomically).
    tables : dict of str to DataFrame
        Sheets in order; names are cut to Excel's 31 characters.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, frame in tables.items():
        sheet = book.create_sheet(title=name[:31])
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([excel_value(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for i, column in enumerate(frame.columns, start=1):
            values = [str(column)] + [str(v) for v in frame.iloc[:, i - 1].head(200)]
            width = min(MAX_WIDTH, max(_width(v) for v in values) + 2)
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = width
    buf = io.BytesIO()
    book.save(buf)
    atomic_write_bytes(path, buf.getvalue())
