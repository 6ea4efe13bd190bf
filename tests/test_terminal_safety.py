"""Nothing from outside reaches the terminal raw.

A member name, file name, case title, note, channel, sender or mistyped argument can carry escape
sequences (ESC, the C1 CSI U+009B, OSC title changes) and bidi overrides. Each command here runs
under a real pseudo-terminal, where click passes ANSI sequences through as it would for a person,
and the screen must hold none of them: they are shown as ``[U+XXXX]``. JSON output keeps the
same values but escapes them, so ``--json`` on a terminal is safe too.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundle_support import invoke
from conftest import Result
from evidencekit._internal.visible import escape_json, visible

# What must never reach a screen raw, written out from the rule rather than taken from the module.
DANGEROUS = frozenset(
    [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)]
    + [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c", "\u2028", "\u2029"] + [chr(c) for c in range(0xD800, 0xE000)]
)
LAYOUT = frozenset("\t\n\r")

FORGED_VERDICT = "\x1b[2J\x1b[H\x1b[32mVALID WITH WARNINGS ... \u2713 All files match\x1b[0m"
HOSTILE = "\x1b[31m\x9b1m\x1b]0;owned\x07photo\u202egpj.exe"
RAW = ("\x1b", "\x9b", "\x07", "\u202e")  # none of these may be on the screen


# -- the function --------------------------------------------------------------------------------

any_text = st.text(st.one_of(st.characters(exclude_categories=()), st.sampled_from(sorted(DANGEROUS))))
plain_text = st.text(st.characters(exclude_categories=("Cs",)).filter(lambda c: c not in DANGEROUS))


@given(any_text)
def test_no_dangerous_character_survives(text: str) -> None:
    assert not DANGEROUS & set(visible(text))
    assert not (DANGEROUS - LAYOUT) & set(visible(text, keep_layout=True))


@given(plain_text)
def test_plain_text_passes_unchanged(text: str) -> None:
    assert visible(text) == text
    assert visible(text, keep_layout=True) == text


@given(any_text)
def test_shown_once_is_shown_for_good(text: str) -> None:
    assert visible(visible(text)) == visible(text)


@given(st.recursive(st.none() | any_text | st.integers(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
                    max_leaves=12))
def test_json_keeps_its_values_and_escapes_the_rest(data: object) -> None:
    document = escape_json(json.dumps(data, ensure_ascii=False, indent=2))
    assert json.loads(document) == data
    assert not (DANGEROUS - {"\n"}) & set(document)  # a line break is only the indentation


def test_the_notation() -> None:
    assert visible("photo\u202egpj.exe") == "photo[U+202E]gpj.exe"
    assert visible("\x1b[2J\x9b\x7f\t\n") == "[U+001B][2J[U+009B][U+007F][U+0009][U+000A]"
    assert visible("a\tb\r\nc\x00", keep_layout=True) == "a\tb\r\nc[U+0000]"
    kept = "Åse Ødegård 😀👩‍👩‍👧 漢字 مرحبا שלום \u200d\ufe0f"
    assert visible(kept) == kept


# -- the commands, on a real terminal -------------------------------------------------------------

def on_terminal(*args: str | Path, deadline: float = 120) -> Result:
    """``evidencekit ARGS`` with stdin, stdout and stderr on a pseudo-terminal; what the screen got."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "evidencekit", *map(str, args)], stdin=slave, stdout=slave,
                            stderr=slave, env={**os.environ, "TERM": "xterm-256color"}, close_fds=True)
    os.close(slave)
    screen, end = bytearray(), time.monotonic() + deadline
    try:
        while time.monotonic() < end:
            if not select.select([master], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command has closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        else:
            proc.kill()
    finally:
        os.close(master)
    code = proc.wait(timeout=30)
    return Result(code, screen.decode("utf-8"), "")


def assert_clean(result: Result) -> None:
    found = [c for c in RAW if c in result.out]
    assert not found, (found, result.out)
    assert "Traceback" not in result.out, result.out


def ok(*args: str | Path) -> Result:
    result = invoke(*args)
    assert result.code == 0, (args, result.out, result.err)
    return result


@pytest.fixture
def worker(home: Path) -> Path:
    ok("init", "--kdf", "interactive")
    return home


def test_member_name_cannot_repaint_an_invalid_verdict(worker: Path, tmp_path: Path) -> None:
    ok("case", "new", "Hand-over")
    evidence = tmp_path / "message.txt"
    evidence.write_text("You will regret this.\n")
    ok("add", evidence, "--no-stamp")
    bundle = tmp_path / "bundle.zip"
    ok("seal", "--no-stamp", "--no-report", "-o", bundle)
    with zipfile.ZipFile(bundle, "a") as archive:  # an extra member: INVALID whatever the layout
        archive.writestr(FORGED_VERDICT, b"planted")
        archive.writestr(HOSTILE, b"planted")

    verified = on_terminal("verify", bundle)
    assert_clean(verified)
    assert verified.code == 1, verified.out
    assert verified.out.lstrip().startswith("INVALID"), verified.out
    assert "[U+001B][2J[U+001B][H[U+001B][32mVALID WITH WARNINGS" in verified.out  # named, and harmless

    as_json = on_terminal("verify", bundle, "--json")
    assert_clean(as_json)
    report = json.loads(as_json.out)
    assert report["verdict"] == "invalid"
    assert json.dumps(FORGED_VERDICT)[1:-1] in json.dumps(report)  # the same name, only escaped

    opened = on_terminal("open", bundle, "-o", tmp_path / "opened")
    assert_clean(opened)


def test_titles_names_notes_and_errors_are_shown_not_obeyed(worker: Path, tmp_path: Path) -> None:
    ok("case", "new", f"Case {HOSTILE}")
    source = tmp_path / f"screenshot {HOSTILE}.png"
    source.write_bytes(b"\x89PNG not really")
    ok("add", source, "--channel", HOSTILE, "--note", f"said {HOSTILE}\nsecond line", "--no-stamp")
    ok("note", f"He said {HOSTILE}", "--date", "2025-04-01", "--no-stamp")

    for args in (["list"], ["show", "E-001"], ["timeline"], ["case", "list"], ["case", "show"]):
        shown = on_terminal(*args)
        assert shown.code == 0, (args, shown.out)
        assert_clean(shown)
        assert "photo[U+202E]gpj.exe" in shown.out, (args, shown.out)
    assert "said [U+001B][31m[U+009B]1m[U+001B]]0;owned[U+0007]photo[U+202E]gpj.exe[U+000A]second line" in (
        on_terminal("show", "E-001").out)  # a line break inside a value makes no line of its own

    for args in (["show", "E-002"], ["log"]):
        shown = on_terminal(*args)
        assert shown.code == 0 and shown.out.strip(), (args, shown.out)
        assert_clean(shown)

    for args in (["case", "use", HOSTILE], ["show", f"E-9{HOSTILE}"], ["add", tmp_path / f"missing {HOSTILE}.txt"],
                 [f"list{HOSTILE}"], ["add", "--who", HOSTILE, source]):  # the last: click quotes it with repr()
        refused = on_terminal(*args)
        assert refused.code == 2, (args, refused.out)
        assert_clean(refused)
        assert "[U+202E]" in refused.out or "\\u202e" in refused.out, (args, refused.out)

    listed = on_terminal("list", "--json")
    assert_clean(listed)
    assert json.loads(listed.out)[0]["files"][0]["name"] == source.name


def test_chat_sender_and_attachment_with_an_override(worker: Path, tmp_path: Path) -> None:
    ok("case", "new", "Chat")
    chat = tmp_path / "WhatsApp Chat with Kari.txt"
    chat.write_text("18.03.2022, 14:50 - Kari \u202eNordmann: Hei \x1b[2Jpå deg\n"
                    "18.03.2022, 14:57 - Kari \u202eNordmann: photo\u202egpj.exe (file attached)\n"
                    "18.03.2022, 14:58 - Ola: To linjer\nmed æøå\n", encoding="utf-8")
    ok("import", chat, "--no-stamp")
    shown = on_terminal("transcript", "E-001")
    assert shown.code == 0, shown.out
    assert_clean(shown)
    lines = shown.out.replace("\r\n", "\n").splitlines()
    assert "[18.03.2022, 14:50] Kari [U+202E]Nordmann: Hei [U+001B][2Jpå deg" in lines
    assert "[18.03.2022, 14:57] Kari [U+202E]Nordmann: photo[U+202E]gpj.exe (file attached)" in lines
    assert lines[-2:] == ["[18.03.2022, 14:58] Ola: To linjer", "    med æøå"]
    timeline = on_terminal("timeline")
    assert_clean(timeline)
    assert "Kari [U+202E]Nordmann" in timeline.out
