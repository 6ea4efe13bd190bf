"""The built-in sample: served on loopback only, and captured whole (lazy comments included)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from capture_pages.site import no_floats, session_or_skip
from evidencekit._internal.capture import capture_page
from evidencekit._internal.demo_site import serve_demo


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
