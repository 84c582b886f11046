"""Student text made inert for where the instructor reads it.

- `terminal(text)`: no control character reaches a terminal (ESC sequences that recolour,
  move the cursor, set the title or write the clipboard; NUL; C1 controls such as CSI;
  the bidirectional overrides that reorder what is shown): each is written as its Python
  escape (`\\x1b`), visible, harmless. Tabs stay; newlines too unless `line=True` (one
  line must not become two: a name that forges a line of the report).
- `cell(text)`: a spreadsheet evaluates a cell that starts with `=`, `+`, `-`, `@`, a tab
  or a carriage return (OWASP's CSV injection); such a text cell gets a leading `'`, which
  spreadsheets show as text (and so does one that starts with `'`: `text_of` reads any cell
  back exactly). For text cells only: numbers are written by the caller.
"""

from __future__ import annotations

import re

_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TEXT = re.compile(f"[{_CONTROL}]")
_LINE = re.compile(f"[{_CONTROL}\n]")
_QUOTED = ("=", "+", "-", "@", "\t", "\r", "'")


def _escape(match: re.Match) -> str:
    return repr(match.group())[1:-1]


def terminal(text: str, line: bool = False) -> str:
    """`text` with every control character shown as its escape; `line`: newlines too."""
    return (_LINE if line else _TEXT).sub(_escape, text)


def cell(text: str) -> str:
    """A text cell that a spreadsheet shows as it is, never evaluates."""
    return "'" + text if text.startswith(_QUOTED) else text


def text_of(cell_text: str) -> str:
    """The text that `cell` wrote as `cell_text`."""
    return cell_text[1:] if cell_text.startswith("'") else cell_text
