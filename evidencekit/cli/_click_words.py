"""Click's own words in the reader's language: usage lines, option sections and every error click raises.

Why: click writes ``Usage:``, ``Missing argument`` and the like through gettext, bound as ``_`` and
``ngettext`` in each of its modules. Pointing those names at the ``click`` catalog domain makes click
speak bokmål without a copy of its logic; a message click adds later stays English until the catalog
has it (``tests/test_cli_nb.py`` walks every command to catch that). Placeholders in usage lines
(``[OPTIONS]``, ``FILES...``) are words too, translated here by ``placeholder``.
"""

from __future__ import annotations

import gettext as _gettext
import re
import sys
from functools import cache

import click

from evidencekit.i18n import catalog, t

_PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_-]*[A-Z0-9]|[A-Z]")


@cache
def _keys() -> dict[str, str]:
    """Click's English message → its key in the ``click`` domain."""
    return {text: key for key, text in catalog("en", "click").items()}


def translate(message: str) -> str:
    """``message`` in the reader's language, if the catalog knows it; else as click wrote it."""
    key = _keys().get(message)
    return t(f"click.{key}") if key else message


def translate_plural(singular: str, plural: str, count: int) -> str:
    return translate(singular if count == 1 else plural)


class _Kind(str):
    """A word click stores when a parameter type is made (``file``, ``path``), before ``--lang`` is read:
    read again in the reader's language wherever click uses it (``.title()`` in errors, ``.upper()``
    as a placeholder)."""

    def _now(self) -> str:
        return translate(str.__str__(self))

    def __str__(self) -> str:
        return self._now()

    def __format__(self, spec: str) -> str:
        return format(self._now(), spec)

    def title(self) -> str:
        return self._now().title()

    def upper(self) -> str:
        return self._now().upper()


_KINDS = {"file", "directory", "path"}


def _click_gettext(message: str) -> str:
    return _Kind(message) if message in _KINDS else translate(message)


def placeholder(text: str) -> str:
    """``[OPTIONS]`` → ``[VALG]``, ``FILES...`` → ``FILER...``: each capital word the catalog knows."""
    words = {value: key for key, value in catalog("en", "click").items() if key.startswith("mv_")}
    return _PLACEHOLDER.sub(lambda m: t(f"click.{words[m[0]]}") if m[0] in words else m[0], text)


def install() -> None:
    """Point click's ``_``/``ngettext`` at the catalogs, in every click module (``import click`` loads them)."""
    for name, module in list(sys.modules.items()):
        if name == click.__name__ or name.startswith(f"{click.__name__}."):
            if getattr(module, "_", None) is _gettext.gettext:
                module._ = _click_gettext  # type: ignore[attr-defined]
            if getattr(module, "ngettext", None) is _gettext.ngettext:
                module.ngettext = translate_plural  # type: ignore[attr-defined]
