"""Web capture with a real Chromium on pages served on 127.0.0.1: pictures, archives, facts."""

from __future__ import annotations

import email
import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from capture_pages.site import band_colour, no_floats, serve_https, session_or_skip
from capture_pages.fixtures import session, site  # noqa: F401 (fixtures)
from evidencekit._internal.capture import CaptureOptions, WebCapture, capture_page

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def bands(session: Any, site: str, tmp_path_factory: pytest.TempPathFactory) -> WebCapture:
    """One capture of a 1280×5000 page of ten 500-px colour bands, shared by several tests."""
    return capture_page(f"{site}/bands?n=10&h=500", workdir=tmp_path_factory.mktemp("bands"),
                        session=session)


def image(capture: WebCapture, role: str = "full_page_screenshot") -> Image.Image:
    Image.MAX_IMAGE_PIXELS = None  # our own screenshots, up to 1280×40000
    with Image.open(capture.file(role).path) as img:
        return img.convert("RGB")


def assert_bands(img: Image.Image, n: int, height: int) -> None:
    for i in range(n):
        for y in (i * height + 5, i * height + height // 2, i * height + height - 5):
            assert img.getpixel((1000, y)) == band_colour(i), f"band {i} at y={y}"


def test_full_page_of_5000_px_is_pixel_true(bands: WebCapture) -> None:
    img = image(bands)
    assert img.size == (1280, 5000)
    assert_bands(img, 10, 500)  # every band in place: not the first viewport repeated
    view = image(bands, "viewport_screenshot")
    assert view.size == (1280, 800)
    assert view.getpixel((1000, 100)) == band_colour(0)
    assert view.getpixel((1000, 700)) == band_colour(1)
    page = bands.metadata["page"]
    assert (page["page_height"], page["captured_height"], page["tiles"]) == (5000, 5000, 1)
    assert page["truncated"] is False


def test_tiles_stitch_to_the_same_pixels(bands: WebCapture, session: Any, site: str,
                                         tmp_path: Path) -> None:
    tiled = capture_page(f"{site}/bands?n=10&h=500", workdir=tmp_path,
                         options=CaptureOptions(tile_height=1024), session=session)
    assert tiled.metadata["page"]["tiles"] == 5
    assert ImageChops.difference(image(tiled), image(bands)).getbbox() is None


def test_page_taller_than_one_paint_is_tiled_and_true(session: Any, site: str,
                                                      tmp_path: Path) -> None:
    capture = capture_page(f"{site}/bands?n=40&h=500", workdir=tmp_path,
                           options=CaptureOptions(scroll=False), session=session)
    page = capture.metadata["page"]
    assert page["tiles"] == 2  # 20,000 px > 16,384 px, the largest single paint we trust
    img = image(capture)
    assert img.size == (1280, 20000)
    assert_bands(img, 40, 500)


def test_max_height_cuts_and_says_so(session: Any, site: str, tmp_path: Path) -> None:
    capture = capture_page(f"{site}/bands?n=10&h=500", workdir=tmp_path,
                           options=CaptureOptions(max_height=1800), session=session)
    page = capture.metadata["page"]
    assert (page["captured_height"], page["truncated"]) == (1800, True)
    assert image(capture).size == (1280, 1800)


def test_lazy_page_ends_with_all_content(session: Any, site: str, tmp_path: Path) -> None:
    capture = capture_page(f"{site}/lazy", workdir=tmp_path, session=session)
    dom = capture.file("rendered_dom").path.read_text(encoding="utf-8")
    text = capture.file("visible_text").path.read_text(encoding="utf-8")
    assert "Item 23" in dom and "end of feed" in dom
    assert "Item 23" in text
    img = image(capture)
    assert img.height == 24 * 400 + 50 + 300
    for i in (0, 11, 23):  # first, middle and last fetched item, at their places
        r, g, b = img.getpixel((1000, i * 400 + 200))
        expected = band_colour(i)
        assert (r, g, b) == expected, f"item {i}"
    assert img.getpixel((640, 24 * 400 + 50 + 150)) == (10, 200, 30)  # the lazy <img>
    assert capture.metadata["page"]["reached_bottom"] is True


def test_debounced_loader_fires_after_scrolling_stops(session: Any, site: str,
                                                      tmp_path: Path) -> None:
    capture = capture_page(f"{site}/debounced", workdir=tmp_path, session=session)
    assert "Item 11" in capture.file("visible_text").path.read_text(encoding="utf-8")
    img = image(capture)
    assert img.height == 12 * 400
    assert img.getpixel((1000, 11 * 400 + 200)) == band_colour(11)


def test_without_scrolling_lazy_content_is_missing(session: Any, site: str,
                                                   tmp_path: Path) -> None:
    capture = capture_page(f"{site}/lazy", workdir=tmp_path,
                           options=CaptureOptions(scroll=False), session=session)
    assert "Item 23" not in capture.file("rendered_dom").path.read_text(encoding="utf-8")
    assert capture.metadata["page"]["scrolled"] is False


def test_a_request_that_never_ends_does_not_stall_the_capture(session: Any, site: str,
                                                              tmp_path: Path) -> None:
    capture = capture_page(f"{site}/hung-image", workdir=tmp_path, session=session,
                           options=CaptureOptions(settle_timeout_ms=1500))
    page = capture.metadata["page"]
    assert page["load_event"] is False  # recorded, not hidden
    assert page["requests_never_finished"] == 1  # written off once, not waited for again
    assert "still here" in capture.file("visible_text").path.read_text(encoding="utf-8")


def test_redirect_chain_is_recorded(session: Any, site: str, tmp_path: Path) -> None:
    url = f"{site}/redirect?hops=3&to=/bands?n=2"
    capture = capture_page(url, workdir=tmp_path, session=session)
    meta = capture.metadata
    assert meta["requested_url"] == url
    assert meta["final_url"] == f"{site}/bands?n=2" == capture.final_url
    hops = meta["http"]["redirects"]
    assert [h["status"] for h in hops] == [301, 302, 301]
    assert hops[0]["url"] == url
    assert hops[0]["location"] == "/redirect?hops=2&to=/bands?n=2"
    assert hops[-1]["location"] == "/bands?n=2"
    assert all(h["server"]["ip"] == "127.0.0.1" for h in hops)


def test_facts_status_headers_server_clocks(bands: WebCapture, site: str) -> None:
    meta = bands.metadata
    no_floats(meta)
    json.dumps(meta, allow_nan=False)
    http = meta["http"]
    assert (http["status"], http["status_text"]) == (200, "OK")
    names = [name for name, _ in http["headers"]]
    assert ["X-Evidence-Test", "kept as sent"] in http["headers"]
    assert "Date" in names
    assert http["server"] == {"ip": "127.0.0.1", "port": int(site.rsplit(":", 1)[1])}
    assert meta["tls"] is None  # plain http
    clock = meta["server_date"]
    assert RFC3339_Z.match(clock["utc"]) and clock["header"].endswith("GMT")
    assert abs(clock["server_minus_local_seconds"]) <= 5
    for moment in (meta["started"], meta["finished"]):
        assert RFC3339_Z.match(moment["utc"])
        assert re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+([+-]\d\d:\d\d)$", moment["local"])
    assert meta["started"]["utc"] <= meta["finished"]["utc"]
    assert meta["title"] == bands.title == "Bands"
    browser = meta["browser"]
    assert browser["name"] == "chromium" and re.match(r"^\d+\.", browser["version"])
    assert "Chrome/" in browser["user_agent"]
    assert meta["viewport"] == {"width": 1280, "height": 800, "device_scale_factor": 1}


def test_files_listed_with_media_types(bands: WebCapture) -> None:
    listed = {(f.name, f.media_type, f.role) for f in bands.files}
    assert listed == {
        ("page-full.png", "image/png", "full_page_screenshot"),
        ("page-viewport.png", "image/png", "viewport_screenshot"),
        ("page.mhtml", "multipart/related", "page_archive"),
        ("page-dom.html", "text/html", "rendered_dom"),
        ("traffic.har", "application/json", "network_record"),
        ("page-text.txt", "text/plain", "visible_text"),
    }
    assert all(f.path.is_file() and f.path.stat().st_size > 0 for f in bands.files)
    json.dumps(bands.to_json())


def test_mhtml_is_a_valid_archive_of_the_page(bands: WebCapture) -> None:
    raw = bands.file("page_archive").path.read_bytes()
    message = email.message_from_bytes(raw)
    assert message.get_content_type() == "multipart/related"
    html = [p for p in message.walk() if p.get_content_type() == "text/html"]
    assert html and html[0]["Content-Location"] == bands.final_url
    assert "band 9" in html[0].get_payload(decode=True).decode("utf-8")


def test_har_is_valid_and_holds_the_page(bands: WebCapture) -> None:
    har = json.loads(bands.file("network_record").path.read_text(encoding="utf-8"))
    entries = har["log"]["entries"]
    assert har["log"]["version"] and har["log"]["creator"]["name"]
    page = [e for e in entries if e["request"]["url"] == bands.final_url]
    assert page and page[0]["response"]["status"] == 200
    assert "band 9" in page[0]["response"]["content"].get("text", "")
    assert page[0]["serverIPAddress"] == "127.0.0.1"


def test_cookies_are_redacted_from_what_is_handed_over(session: Any, site: str,
                                                       tmp_path: Path) -> None:
    capture = capture_page(f"{site}/login", workdir=tmp_path, session=session)
    for f in capture.files:
        assert b"s3cret-token" not in f.path.read_bytes(), f.name
    assert "s3cret-token" not in json.dumps(capture.metadata)
    headers = dict((n.lower(), v) for n, v in capture.metadata["http"]["headers"])
    assert headers["set-cookie"].startswith("[redacted")
    assert "cookie" in capture.metadata["redacted"]


def test_error_page_captured_when_allowed(session: Any, site: str, tmp_path: Path) -> None:
    capture = capture_page(f"{site}/status/404", workdir=tmp_path,
                           options=CaptureOptions(allow_error_status=True), session=session)
    assert capture.metadata["http"]["status"] == 404
    assert "error page 404" in capture.file("visible_text").path.read_text(encoding="utf-8")


def test_wait_for_selector(session: Any, site: str, tmp_path: Path) -> None:
    capture = capture_page(f"{site}/lazy", workdir=tmp_path, session=session,
                           options=CaptureOptions(wait_for="#item-0", scroll=False))
    assert capture.metadata["page"]["wait_for"] == "#item-0"
    assert "Item 0" in capture.file("rendered_dom").path.read_text(encoding="utf-8")


def test_https_records_the_certificate(tmp_path: Path) -> None:
    with serve_https(tmp_path) as (base, pin):
        trusted = session_or_skip(extra_args=[f"--ignore-certificate-errors-spki-list={pin}"])
        try:
            capture = capture_page(f"{base}/bands?n=2", workdir=tmp_path / "c", session=trusted)
        finally:
            trusted.close()
    tls = capture.metadata["tls"]
    assert tls["protocol"].startswith("TLS")
    assert tls["subject"] == tls["issuer"] == "evidencekit test site"
    assert RFC3339_Z.match(tls["valid_from"]) and RFC3339_Z.match(tls["valid_to"])
    assert tls["valid_from"] < capture.metadata["started"]["utc"] < tls["valid_to"]
    assert tls["certificate_checked"] is True
    no_floats(capture.metadata)


def test_untrusted_certificate_captured_only_when_asked(session: Any, tmp_path: Path) -> None:
    with serve_https(tmp_path) as (base, _pin):
        capture = capture_page(f"{base}/bands?n=2", workdir=tmp_path / "c", session=session,
                               options=CaptureOptions(ignore_https_errors=True))
    assert capture.metadata["tls"]["certificate_checked"] is False
    assert capture.metadata["options"]["ignore_https_errors"] is True
