"""What an item holds, read back from the blob store: its transcript, its text, its pictures.

Why one place: the report and redaction both need to know which file of an item is the
transcript, which picture stands for a web capture, and how much text is safe to show; the
answers must not drift apart.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from evidencekit._internal.capture.model import DOM, FULL_PAGE, TEXT, VIEWPORT
from evidencekit.importers.model import SCHEMA
from evidencekit.models import Item, ItemFile

TEXT_LIMIT = 200_000  # characters of a text file shown in a report; the file itself stays whole
_TRANSCRIPT_START = b'{"schema":' + json.dumps(SCHEMA).encode()


def read(locker: Any, file: ItemFile, limit: int | None = None) -> bytes:
    """The stored bytes of ``file`` (or the first ``limit`` bytes)."""
    with locker.blobs.open(file.sha256) as blob:
        return blob.read() if limit is None else blob.read(limit)


def is_transcript(locker: Any, file: ItemFile) -> bool:
    """A transcript is our own JSON (``evidencekit.transcript/1``), whatever its file name."""
    if "json" not in file.media_type and not file.name.endswith(".json"):
        return False
    return read(locker, file, len(_TRANSCRIPT_START)) == _TRANSCRIPT_START


def transcript_file(locker: Any, item: Item) -> ItemFile | None:
    return next((f for f in item.files if is_transcript(locker, f)), None)


def transcript(locker: Any, item: Item) -> dict[str, Any] | None:
    """The parsed transcript of an imported chat or e-mail, or None if the item has none."""
    file = transcript_file(locker, item)
    if file is None:
        return None
    try:
        data = json.loads(read(locker, file))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("messages"), list) else None


def is_text(file: ItemFile) -> bool:
    return file.media_type.startswith("text/plain")


def text(locker: Any, file: ItemFile) -> tuple[str, bool]:
    """A text file as text for reading (undecodable bytes shown as �) and whether it was cut."""
    data = read(locker, file, TEXT_LIMIT * 4 + 4)
    shown = data.decode("utf-8", "replace")
    cut = file.size > len(data) or len(shown) > TEXT_LIMIT
    return shown[:TEXT_LIMIT], cut


def is_picture(file: ItemFile) -> bool:
    """Pictures are what the locker could read as an image (it gave them a perceptual hash)."""
    return file.phash is not None and file.media_type.startswith("image/")


def pictures(item: Item) -> list[ItemFile]:
    """The pictures that stand for an item: a web capture's full page (else its window), or
    every picture of any other item."""
    found = [f for f in item.files if is_picture(f)]
    if item.kind == "web":
        for name in (FULL_PAGE, VIEWPORT):
            chosen = [f for f in found if f.name == name]
            if chosen:
                return chosen
    return found


def page_text(locker: Any, item: Item) -> tuple[str, str, bool, bool] | None:
    """A web capture's visible text: (file name, text, cut short, read from the page's HTML).

    The capture keeps what the browser showed (``page-text.txt``); a capture without it (an
    older or partial one) has its text read from the rendered HTML with a real HTML parser."""
    stored = {f.name: f for f in item.files}
    if TEXT in stored:
        return (TEXT, *text(locker, stored[TEXT]), False)
    if DOM not in stored:
        return None
    reader = _VisibleText()
    reader.feed(read(locker, stored[DOM], TEXT_LIMIT * 8).decode("utf-8", "replace"))
    reader.close()
    words = "\n".join(" ".join(line.split()) for line in "".join(reader.parts).splitlines())
    shown = "\n".join(line for line in words.split("\n") if line)
    return DOM, shown[:TEXT_LIMIT], len(shown) > TEXT_LIMIT or stored[DOM].size > TEXT_LIMIT * 8, True


class _VisibleText(HTMLParser):
    """The text of an HTML document a reader would see: not scripts, styles, templates or the
    head, nor elements marked ``hidden``; block elements start new lines."""

    SKIP = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "iframe"})
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
                       "header", "footer", "blockquote", "pre", "table", "ul", "ol", "dd", "dt"})
    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "area", "base", "col", "embed", "source",
                      "track", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden: list[str] = []  # open elements whose content is not shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK:
            self.parts.append("\n")
        if tag in self.VOID:
            return
        if self.hidden or tag in self.SKIP or any(name == "hidden" or (name == "aria-hidden" and value == "true")
                                                  for name, value in attrs):
            self.hidden.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()
        elif tag in self.hidden:  # badly nested: close up to it
            del self.hidden[len(self.hidden) - 1 - self.hidden[::-1].index(tag):]
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)
