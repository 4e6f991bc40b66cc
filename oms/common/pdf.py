"""What every printed document shares: the DejaVu Sans fonts the project ships
(``oms/common/fonts/``, with their licence), registered once with reportlab, and the rule for
characters they lack.

Embedding the font lets names and addresses print in any Latin, Greek or Cyrillic script
(``Łódź``, ``Straße``, ``Москва``) with nothing fetched. A character the font lacks is written
without its accent if that leaves a letter it has, else as ``?``, never as a blank box.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
_FONTS_DIR = Path(__file__).resolve().parent / "fonts"
for _name in (FONT, BOLD):
    if _name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_name, str(_FONTS_DIR / f"{_name}.ttf")))
pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
_GLYPHS = frozenset(pdfmetrics.getFont(FONT).face.charToGlyph)

# Letters that have no decomposition into a base letter and an accent.
_PLAIN_LETTERS = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "\u0131": "i", "Ŀ": "L", "ŀ": "l", "ŉ": "n"}
)


def printable(text: str) -> str:
    """``text`` in the characters the font has: those as they are, others without their
    accent where that leaves a letter the font has, anything else as ``?``."""
    out = []
    for char in text:
        if _in_font(char):
            out.append(char)
        else:
            plain = char.translate(_PLAIN_LETTERS)
            out.append("".join(c for c in unicodedata.normalize("NFKD", plain) if _in_font(c)) or "?")
    return "".join(out)


def _in_font(char: str) -> bool:
    return ord(char) in _GLYPHS or char in "\n\t"


def paragraph(text: object, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: user text is escaped, never read as Paragraph markup."""
    return Paragraph(escape(printable(str(text))), style)


def paragraph_lines(parts: Iterable[str], style: ParagraphStyle) -> Paragraph:
    """Several lines of plain text in one paragraph; empty parts are left out."""
    return Paragraph("<br/>".join(escape(printable(part)) for part in parts if part), style)
