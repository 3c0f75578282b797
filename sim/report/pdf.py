"""The report as an A4 PDF (matplotlib's PdfPages): every page A4 portrait, the same
sections as report.html in the same order — the question, the ranking sentence and
verdicts, the ranking, the figures with their captions, the tables.

Text is real PDF text (pdftotext finds the numbers), set in the report style's
fonts, with a CJK fallback for Chinese (:mod:`sim.report.fonts`). Lines are
broken by an estimate of their width (a Latin character is taken as 0.56 em, an
East Asian one as 1 em), between words and between any two East Asian
characters. A table too wide for the page is split into column groups, each
repeating the first column; a table longer than a page goes on with its header
repeated.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from sim.report.blocks import Figure, Section, Table, Text, cell_text
from sim.results import atomic_write_bytes

__all__ = ["write_pdf", "A4_POINTS", "wrap"]

A4_POINTS = (595.2756, 841.8898)  # 210 x 297 mm
W, H = A4_POINTS
MARGIN = 48.0                      # points on every side
BODY = W - 2 * MARGIN
LEADING = 1.38                     # line height, times the font size
TEXT_SIZE, TABLE_SIZES, CAPTION_SIZE = 9.0, (7.0, 6.5, 6.0, 5.5), 7.5
INK, RULE, SHADE = "#2E3440", "#D8DEE9", "#ECEFF4"

_TOKEN = re.compile(r"[\u2e80-\uffef]|[^\s\u2e80-\uffef]+|\s+")


def _wide(ch: str) -> bool:
    return "\u2e80" <= ch <= "\uffef"


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width of ``text`` in points at ``size`` points."""
    latin = 0.62 if bold else 0.56
    return size * sum(1.0 if _wide(ch) else latin for ch in text)


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width`` points (a single word
    wider than that gets a line of its own)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _TOKEN.findall(paragraph):
            if line and not token.isspace() and \
                    text_width(line + token, size, bold) > width:
                lines.append(line.rstrip())
                line = ""
            if not (token.isspace() and not line):
                line += token
        lines.append(line.rstrip())
    return lines


class _Writer:
    """Lays blocks down A4 pages, top to bottom; ``y`` is points from the page top."""

    def __init__(self, pdf, title: str):
        self.pdf, self.title, self.fig, self.page, self.y = pdf, title, None, 0, 0.0

    def new_page(self) -> None:
        import matplotlib.pyplot as plt

        self.close_page()
        self.fig = plt.figure(figsize=(W / 72, H / 72))
        self.page += 1
        self.y = MARGIN
        self.text(MARGIN, H - MARGIN / 2, self.title, 7, color="#7B8394", top=False)
        self.text(W - MARGIN, H - MARGIN / 2, str(self.page), 7, color="#7B8394",
                  ha="right", top=False)

    def close_page(self) -> None:
        import matplotlib.pyplot as plt

        if self.fig is not None:
            self.pdf.savefig(self.fig)
            plt.close(self.fig)
            self.fig = None

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` points still fit on this one."""
        if self.fig is None or self.y + height > H - MARGIN:
            self.new_page()

    def text(self, x: float, y: float, s: str, size: float, top: bool = True, **kw) -> None:
        kw.setdefault("color", INK)
        self.fig.text(x / W, 1 - y / H, s, fontsize=size, va="top" if top else "bottom", **kw)

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        from matplotlib.patches import Rectangle

        self.fig.patches.append(Rectangle((x / W, 1 - (y + h) / H), w / W, h / H, lw=0,
                                          color=color, transform=self.fig.transFigure,
                                          figure=self.fig, zorder=0))

    def rule(self, y: float, x0: float = MARGIN, x1: float = W - MARGIN) -> None:
        from matplotlib.lines import Line2D

        self.fig.lines.append(Line2D([x0 / W, x1 / W], [1 - y / H] * 2, lw=0.5, color=RULE,
                                     transform=self.fig.transFigure, figure=self.fig))

    # ------------------------------------------------------------------ blocks
    def heading(self, s: str, size: float, keep: float = 60.0) -> None:
        """A heading kept on one page with the first ``keep`` points of what follows."""
        lines = wrap(s, BODY, size, bold=True)
        self.need(len(lines) * size * LEADING + keep)
        self.y += size * 0.6
        for line in lines:
            self.text(MARGIN, self.y, line, size, weight="bold")
            self.y += size * LEADING
        self.rule(self.y)
        self.y += size * 0.5

    def paragraph(self, s: str, size: float = TEXT_SIZE) -> None:
        for line in wrap(s, BODY, size):
            self.need(size * LEADING)
            self.text(MARGIN, self.y, line, size)
            self.y += size * LEADING
        self.y += size * 0.6

    def figure(self, png: bytes, caption: str) -> None:
        import matplotlib.image as mpimg

        img = mpimg.imread(io.BytesIO(png), format="png")
        width, height = _figure_size(*img.shape[:2])
        cap = wrap(caption, BODY, CAPTION_SIZE)
        self.need(height + len(cap) * CAPTION_SIZE * LEADING + 6)
        ax = self.fig.add_axes([MARGIN / W, 1 - (self.y + height) / H, width / W, height / H])
        ax.imshow(img, interpolation="none", aspect="auto")
        ax.set_axis_off()
        self.y += height + 3
        for line in cap:
            self.text(MARGIN, self.y, line, CAPTION_SIZE, style="italic", color="#4C566A")
            self.y += CAPTION_SIZE * LEADING
        self.y += 8

    def table(self, block: Table) -> None:
        frame = block.frame
        header = [] if block.meta else [str(c) for c in frame.columns]
        rows = [[cell_text(v, block.float_format) for v in row]
                for row in frame.itertuples(index=False)]
        for size in TABLE_SIZES:
            widths = _column_widths(header, rows, size)
            if sum(widths) <= BODY:
                break
        for group in _column_groups(widths):
            self._table_part([header[i] for i in group] if header else [],
                             [[r[i] for i in group] for r in rows],
                             [widths[i] for i in group], size)

    def _table_part(self, header: list[str], rows: list[list[str]], widths: list[float],
                    size: float) -> None:
        pad, line_h = 3.0, size * LEADING
        right = [i > 0 and all(_numeric(r[i]) for r in rows) for i in range(len(widths))]

        def draw(cells: list[str], bold: bool) -> None:
            wrapped = [wrap(c, w - 2 * pad, size, bold) for c, w in zip(cells, widths,
                                                                          strict=True)]
            height = max(len(w) for w in wrapped) * line_h + 2
            self.need(height)
            if bold:
                self.rect(MARGIN, self.y, sum(widths), height, SHADE)
            x = MARGIN
            for lines, w, r in zip(wrapped, widths, right, strict=True):
                for k, line in enumerate(lines):
                    self.text(x + (w - pad if r else pad), self.y + 1 + k * line_h, line, size,
                              ha="right" if r else "left", weight="bold" if bold else "normal")
                x += w
            self.y += height
            self.rule(self.y, MARGIN, MARGIN + sum(widths))

        first = True
        for row in rows:
            if header and (first or self.y + 2 * line_h > H - MARGIN):
                self.need(4 * line_h)
                draw(header, True)
                first = False
            draw(row, False)
        self.y += 10


def _figure_size(h_px: int, w_px: int) -> tuple[float, float]:
    """Width and height in points of a figure saved at 110 dpi: its own size, shrunk
    to the page's body width and height."""
    width = min(BODY, w_px / 110 * 72)
    height = width * h_px / w_px
    room = H - 2 * MARGIN - 3 * CAPTION_SIZE * LEADING
    return (width * room / height, room) if height > room else (width, height)


def _first_height(blocks: list) -> float:
    """Points the first block of a section needs (a figure whole, else a few lines)."""
    if blocks and isinstance(blocks[0], Figure):
        import matplotlib.image as mpimg

        h_px, w_px = mpimg.imread(io.BytesIO(blocks[0].png), format="png").shape[:2]
        return _figure_size(h_px, w_px)[1] + 2 * CAPTION_SIZE * LEADING
    return 60.0


def _numeric(s: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,.]+(e[-+]?\d+)?%?|inf|-inf|nan|", s.strip()))


def _column_widths(header: list[str], rows: list[list[str]], size: float) -> list[float]:
    """Points per column: the widest cell (at most 45 % of the page), headers wrapped
    to at least that and at most 95 points."""
    n = len(rows[0]) if rows else len(header)
    out = []
    for i in range(n):
        cells = max((text_width(r[i], size) for r in rows), default=0.0)
        head = text_width(header[i], size, bold=True) if header else 0.0
        longest_word = max((text_width(w, size, True) for w in header[i].split()),
                           default=0.0) if header else 0.0
        out.append(min(BODY * 0.45, max(cells, min(head, 95.0), longest_word)) + 7.0)
    return out


def _column_groups(widths: list[float]) -> list[list[int]]:
    """Columns split into groups that fit the page, each starting with column 0."""
    groups, current = [], [0]
    for i in range(1, len(widths)):
        if sum(widths[j] for j in current) + widths[i] > BODY and len(current) > 1:
            groups.append(current)
            current = [0]
        current.append(i)
    return groups + [current]


def write_pdf(path: Path, title: str, sections: list[Section]) -> None:
    """Write ``sections`` (heading, blocks) under ``title`` to ``path`` as A4 pages.

    Parameters
    ----------
    path : Path
        The PDF to write (atomically).
    title : str
        Shown at the top of page 1 and in every page's footer.
    sections : list of (str, list of Text, Table or Figure)
        The report's sections, as :mod:`sim.report.html` renders them.
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from sim.report.style import apply_style

    apply_style()
    buf = io.BytesIO()
    with plt.rc_context({"savefig.bbox": None}), \
            PdfPages(buf, metadata={"Title": title, "CreationDate": None}) as pdf:
        writer = _Writer(pdf, title)
        writer.heading(title, 15)
        for heading, blocks in sections:
            writer.heading(heading, 12, keep=_first_height(blocks))
            for block in blocks:
                if isinstance(block, Figure):
                    writer.figure(block.png, block.caption)
                elif isinstance(block, Table):
                    writer.table(block)
                elif isinstance(block, Text):
                    writer.paragraph(block.text)
        writer.close_page()
    atomic_write_bytes(path, buf.getvalue())
