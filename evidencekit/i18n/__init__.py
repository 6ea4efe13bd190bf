"""Every sentence a worker reads, in Norwegian bokmål and English.

Catalogs live in ``i18n/<lang>/<domain>.toml``; a key ``"locker.no_case"`` is looked up in the
``locker`` domain. One domain a file keeps catalogs small and lets each part of the package own its
own words. Both languages must hold the same keys with the same ``{placeholders}`` (tested).

Parameters are filled in as given, even names and chat text from outside: a sentence may end up
on a terminal, in the HTML report or in a bundle's README.txt, and only the place it is written
knows which characters are dangerous there. The terminal's ``echo``/``emit`` (``cli/_common.py``)
and the report's ``finalize`` show control and bidi characters as ``[U+XXXX]``.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from importlib import resources

LANGUAGES = ("en", "nb")
_NORWEGIAN_LOCALES = ("nb", "no", "nn")

_current: str | None = None


def detect_language() -> str:
    """The language from ``EVIDENCEKIT_LANG``, else the locale, else English."""
    wanted = os.environ.get("EVIDENCEKIT_LANG", "").strip().lower()
    if wanted in LANGUAGES:
        return wanted
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "").strip().lower()
        if value:
            return "nb" if value.startswith(_NORWEGIAN_LOCALES) else "en"
    return "en"


def set_language(lang: str | None) -> str:
    global _current
    _current = lang if lang in LANGUAGES else detect_language()
    return _current


def language() -> str:
    return _current or set_language(None)


@cache
def catalog(lang: str, domain: str) -> dict[str, str]:
    path = resources.files(__package__) / lang / f"{domain}.toml"
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def domains() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in (resources.files(__package__) / "en").iterdir()
                  if p.name.endswith(".toml"))


def t(key: str, lang: str | None = None, /, **params: object) -> str:
    """The sentence for ``key`` in ``lang`` (default: the current language), filled in.

    ``key`` and ``lang`` are positional only, so a parameter of the sentence may be called
    ``key`` or ``lang`` (a notice about a JSON key written twice names it ``key``). With
    ``count=1`` the key's singular form ``KEY_one`` is used where the catalog has one:
    "og 1 fil til", not "og 1 filer til".
    """
    domain, _, name = key.partition(".")
    lang = lang or language()
    if params.get("count") == 1 and f"{name}_one" in catalog("en", domain):
        name = f"{name}_one"
    text = catalog(lang, domain).get(name) or catalog("en", domain).get(name)
    if text is None:
        return key
    return text.format(**params) if params else text
