"""Characters from outside that could act on a screen instead of being read, made visible.

Why: member names, file names, chat text, sender names and case titles are written by the people
evidence is about, or by whoever handed a bundle over. A terminal obeys an escape sequence inside
such a name (it can clear the screen and repaint an INVALID verdict as VALID), and a browser, a
PDF viewer or a bidi-aware terminal obeys a right-to-left override (``photo<RLO>gpj.exe`` reads as
``photoexe.jpg``). Each such character is written as ``[U+XXXX]``, its code point: plain ASCII,
so it renders in every font, survives copying and ``pdftotext``, needs no escaping in HTML, and
cannot itself be abused. Letters of every script, emoji and joiners pass unchanged.

Made visible:

- C0 controls U+0000–U+001F (TAB, LF and CR too: inside one value a line break could fake a line
  of ours), DEL U+007F and C1 controls U+0080–U+009F (U+009B starts an escape sequence like ESC);
- bidi embeddings and overrides U+202A–U+202E and isolates U+2066–U+2069;
- the marks LRM U+200E, RLM U+200F and ALM U+061C: they move neutral characters and digit groups
  (an RLM before ``10:30 12:00`` shows the two times swapped), so evidence would read differently
  in a browser than in a terminal; chat apps put them around names, and showing that is honest;
- the line and paragraph separators U+2028/U+2029 (a line break for some renderers, the end of a
  bidi paragraph for all);
- lone surrogates U+D800–U+DFFF (a file name that was not valid UTF-8), which no encoder accepts.
"""

from __future__ import annotations

import re

_C0 = r"\x00-\x1f"
_C0_BUT_LAYOUT = r"\x00-\x08\x0b\x0c\x0e-\x1f"  # all but TAB, LF and CR
_OTHERS = r"\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"

_EVERYWHERE = re.compile(f"[{_C0}{_OTHERS}]")
_BESIDE_LAYOUT = re.compile(f"[{_C0_BUT_LAYOUT}{_OTHERS}]")
_IN_JSON = re.compile(f"[{_OTHERS}]")


def _marker(match: re.Match[str]) -> str:
    return f"[U+{ord(match.group()):04X}]"


def visible(text: str, *, keep_layout: bool = False) -> str:
    """``text`` with every character listed above written as ``[U+XXXX]``.

    ``keep_layout`` leaves TAB, LF and CR alone, for documents (HTML) where they are only white
    space and cannot fake anything; a terminal line never keeps them."""
    return (_BESIDE_LAYOUT if keep_layout else _EVERYWHERE).sub(_marker, text)


def escape_json(document: str) -> str:
    """A JSON document (from ``json.dumps(..., ensure_ascii=False)``) with those characters as
    ``\\uXXXX`` escapes: the same JSON values, nothing raw on a terminal. ``json.dumps`` escapes
    C0 itself; the rest can only stand inside a string literal, where the escape means the same."""
    return _IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
