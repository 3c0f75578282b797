"""Assemble the self-contained report.html: figures as data URIs, no scripts,
no external fonts or styles; every user-supplied string HTML-escaped."""

from __future__ import annotations

import base64
from html import escape

import pandas as pd

from sim.report.blocks import Figure, Section, Table, Text, cell_text

__all__ = ["page", "figure_block", "table_block"]

# Nothing wider than the window (800 px included): figures shrink to the page, a table
# too wide scrolls inside its own box, long names wrap.
CSS = """
body{font-family:-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","PingFang SC",
"Microsoft YaHei",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#2E3440;
line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #D8DEE9}
.table{max-width:100%;overflow-x:auto;margin:.5em 0}
table{border-collapse:collapse;font-size:.82em;overflow-wrap:normal}
td,th{border:1px solid #D8DEE9;padding:.2em .5em;text-align:right}
th{background:#ECEFF4}td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}img{max-width:100%;height:auto;display:block;margin:.6em 0}
.verdict{margin:.3em 0}.meta td{text-align:left}
"""


def figure_block(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def table_block(frame: pd.DataFrame, float_format: str = "{:,.2f}") -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell_text(v, float_format))}</td>"
                                    for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return (f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
            "</table></div>")


def _block(block: Text | Table | Figure) -> str:
    if isinstance(block, Figure):
        return figure_block(block.png, block.caption)
    if isinstance(block, Table):
        table = table_block(block.frame, block.float_format)
        return f'<div class="meta">{table}</div>' if block.meta else table
    style = f' class="{block.style}"' if block.style else ""
    return f"<p{style}>{escape(block.text)}</p>"


def page(title: str, sections: list[Section], lang: str = "en") -> str:
    """A whole HTML document; ``sections`` are (heading, blocks) pairs."""
    parts = [f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
             f"<h1>{escape(title)}</h1>"]
    for heading, blocks in sections:
        parts.append(f"<h2>{escape(heading)}</h2>" + "".join(_block(b) for b in blocks))
    parts.append("</body></html>")
    return "".join(parts)
