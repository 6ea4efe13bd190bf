"""The built-in sample: served on loopback only, captured whole (lazy comments included), and the
``demo`` command's encrypted demo locker that the next steps it prints open."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from capture_pages.site import no_floats, session_or_skip
from conftest import run_cli
from evidencekit._internal import layout
from evidencekit._internal.capture import capture_page
from evidencekit._internal.demo_site import serve_demo
from evidencekit.locker import Locker


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_demo_site_serves_its_pages_and_nothing_else() -> None:
    with serve_demo() as site:
        assert site.base_url.startswith("http://127.0.0.1:")
        status, body = fetch(site.base_url + "/")
        assert status == 200 and b"chat.html" in body and b"post.html" in body
        for page in site.pages:
            status, body = fetch(site.url(page))
            assert status == 200 and "FIKTIVT EKSEMPEL".encode() in body
        for sneaky in ("/../pyproject.toml", "/%2e%2e/__init__.py", "/demo/../../x",
                       "/.hidden", "/nope.html"):
            assert fetch(site.base_url + sneaky)[0] == 404, sneaky


def test_demo_pages_are_captured_whole(tmp_path: Path) -> None:
    session = session_or_skip()
    try:
        with serve_demo() as site:
            chat = capture_page(site.url("chat"), workdir=tmp_path / "chat", session=session)
            post = capture_page(site.url("post"), workdir=tmp_path / "post", session=session)
    finally:
        session.close()
    chat_text = chat.file("visible_text").path.read_text(encoding="utf-8")
    post_text = post.file("visible_text").path.read_text(encoding="utf-8")
    assert chat.title == "Vaktrom – Per Testesen"
    assert "Per, dette må slutte" in chat_text and "holder ut her" in chat_text
    assert "Ola Nordmann" in post_text
    assert "parkeringsplassen" in post_text  # in the last batch, loaded only by scrolling
    assert "Ingen flere kommentarer" in post_text
    for capture in (chat, post):
        no_floats(capture.metadata)
        assert capture.metadata["http"]["server"]["ip"] == "127.0.0.1"
        assert capture.metadata["page"]["image_height"] > 800


def test_the_demo_makes_an_encrypted_locker_its_next_steps_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session_or_skip().close()
    result = run_cli("demo", "-o", tmp_path / "demo", cwd=tmp_path)
    assert result.code == 0, result.err[-3000:]
    home = tmp_path / "demo" / "locker"
    assert 'everything holds — 3 items, ' in result.out and "(passphrase: demo)" in result.out
    assert Locker.state(home) == "encrypted"
    assert not (home / layout.DATABASE).read_bytes().startswith(b"SQLite format 3\0")
    assert b"Per Testesen" not in b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    listed = run_cli("--home", home, "list", "--json", env={"EVIDENCEKIT_PASSPHRASE": "demo"})
    assert listed.code == 0 and [i["number"] for i in listed.json()] == [1, 2, 3]
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE", raising=False)
    locked = run_cli("--home", home, "list")
    assert locked.code == 2 and locked.err.strip() == \
        "The locker is locked: its contents are encrypted. Unlock it first with: evidencekit unlock"
    assert run_cli("verify", tmp_path / "demo" / "bundle.zip").code == 0
