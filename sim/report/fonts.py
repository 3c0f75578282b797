"""A CJK font for the figures, so Chinese variant names and ``--lang zh`` text draw
as characters, not boxes.

The font comes with the install: ``mplfonts`` (a PyPI dependency, MIT) ships Noto
Sans CJK SC (SIL Open Font License), which is registered with matplotlib's font
manager by file the first time a figure is drawn; of that package only this font
is used. Failing that, a CJK font installed on the system (Noto Sans CJK,
WenQuanYi, Droid Sans Fallback) is used. With none, a warning says once what to
install, and Chinese characters draw as boxes.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from functools import cache
from pathlib import Path

from matplotlib import font_manager

__all__ = ["cjk_fonts", "PACKAGED_FONT", "SYSTEM_CJK_FONTS"]

log = logging.getLogger(__name__)

PACKAGED_FONT = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")
SYSTEM_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei",
                    "WenQuanYi Micro Hei", "AR PL UMing CN", "Droid Sans Fallback")


def _packaged() -> Path | None:
    spec = importlib.util.find_spec(PACKAGED_FONT[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGED_FONT[1]
    return path if path.is_file() else None


def _add(path: str | Path) -> str | None:
    """Register one font file; its family name, or None if it cannot be read."""
    try:
        font_manager.fontManager.addfont(str(path))
        return font_manager.FontProperties(fname=str(path)).get_name()
    except (OSError, RuntimeError, ValueError):
        return None


@cache
def cjk_fonts() -> tuple[str, ...]:
    """Family names of the CJK fonts figures fall back to, best first (registered
    with matplotlib on the first call); empty, with one warning, if there is none."""
    found: list[str] = []
    packaged = _packaged()
    if packaged is not None and (name := _add(packaged)):
        found.append(name)
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed & set(SYSTEM_CJK_FONTS):  # installed after matplotlib cached its list
        for path in font_manager.findSystemFonts():
            if any(key in path.lower() for key in ("wqy", "notosanscjk", "noto-cjk", "droid")):
                _add(path)
        installed = {f.name for f in font_manager.fontManager.ttflist}
    found += [f for f in SYSTEM_CJK_FONTS if f in installed and f not in found]
    if not found:
        warnings.warn("no CJK font found: Chinese text in the report's figures will show as "
                      "boxes. Reinstall with 'pip install -e .' (it brings mplfonts) or install "
                      "a system CJK font (Debian: apt-get install fonts-wqy-zenhei).",
                      stacklevel=2)
    return tuple(found)
