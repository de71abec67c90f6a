"""Which characters text from outside (catalog cells, campaign fields, reviewer edits) may hold.

Control characters (C0, DEL, C1) reach exports and terminals as commands, and bidirectional
overrides and zero-width characters make text read differently from what it holds (a title
that shows "Mug" but stores "M\u200bug" matches no banned term; U+202E reverses what follows
it). Both are refused wherever such text enters. Zero-width joiner and non-joiner (U+200D,
U+200C) are allowed: emoji sequences and Persian or Indic spelling need them, and they do not
hide or reorder text.
"""

from __future__ import annotations

import re

__all__ = ["forbidden_character"]

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_INVISIBLE = (
    "\u061c"  # arabic letter mark
    "\u180e"  # mongolian vowel separator
    "\u200b"  # zero-width space
    "\u200e\u200f"  # left-to-right / right-to-left mark
    "\u2028\u2029"  # line / paragraph separator
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\ufeff"  # zero-width no-break space (a BOM inside text)
)
_WITH_LAYOUT = re.compile(f"[{_CONTROL}{_INVISIBLE}]")
_ONE_LINE = re.compile(f"[\t\n\r{_CONTROL}{_INVISIBLE}]")


def forbidden_character(text: str, *, newlines: bool) -> str | None:
    """Why ``text`` may not be used (its first forbidden character), or None.

    ``newlines``: tab, newline and carriage return are allowed (multi-line fields)."""
    found = (_WITH_LAYOUT if newlines else _ONE_LINE).search(text)
    if found is None:
        return None
    character = found.group()
    where = f"(U+{ord(character):04X}) at character {found.start() + 1}"
    if character in "\t\n\r":
        return f"must be one line: a line break or tab {where}"
    if re.fullmatch(f"[{_CONTROL}]", character):
        return f"contains a control character {where}"
    return f"contains an invisible or direction-changing character {where}"
