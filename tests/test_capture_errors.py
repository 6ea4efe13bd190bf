"""Every way a capture can fail gives one clear sentence (both languages), never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from capture_pages.site import serve_https
from capture_pages.fixtures import session, site  # noqa: F401 (fixtures)
from evidencekit._internal.capture import CaptureOptions, capture_page, check_url
from evidencekit._internal.capture.errors import BadUrl, UnsupportedScheme
from evidencekit.errors import UserError


def assert_clear(error: UserError, *must: str) -> None:
    """One sentence for a person: no traceback, call log or Python names, in en and nb."""
    assert error.exit_code == 2
    for lang in ("en", "nb"):
        text = error.message(lang)
        assert text != error.key, f"missing catalog entry {error.key}"
        assert "\n" not in text and "Traceback" not in text and "Call log" not in text
        assert "Page.goto" not in text and "{" not in text
        for part in must:
            assert part in text, (lang, part, text)
    assert error.message("en") != error.message("nb")


def fails(session: Any, url: str, tmp_path: Path, **options: Any) -> UserError:
    workdir = tmp_path / "w"
    with pytest.raises(UserError) as caught:
        capture_page(url, workdir=workdir, session=session, options=CaptureOptions(**options))
    assert not any(workdir.iterdir()), "a failed capture must leave no files behind"
    return caught.value


@pytest.mark.parametrize("url", ["notaurl", "localhost:8000/x", "example.org:8080",
                                 "http://", "https:///path", "http://exa mple.org/",
                                 "http://127.0.0.1:99999/", "C:\\evidence\\page.html", ""])
def test_not_a_web_address(url: str) -> None:
    with pytest.raises(BadUrl) as caught:
        check_url(url)
    assert_clear(caught.value, "https://")


@pytest.mark.parametrize("url,scheme", [("ftp://127.0.0.1/x", "ftp"),
                                        ("file:///etc/passwd", "file"),
                                        ("javascript:alert(1)", "javascript"),
                                        ("mailto:someone@example.org", "mailto"),
                                        ("chrome://settings", "chrome")])
def test_non_web_scheme(url: str, scheme: str) -> None:
    with pytest.raises(UnsupportedScheme) as caught:
        capture_page(url, workdir=Path("unused-because-refused-first"))
    assert_clear(caught.value, f"{scheme}:")
    assert not Path("unused-because-refused-first").exists()


def test_connection_refused(session: Any, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = fails(session, f"http://127.0.0.1:{port}/", tmp_path)
    assert error.key == "capture.connection_refused"
    assert_clear(error, f"127.0.0.1:{port}")


def test_unknown_host(session: Any, tmp_path: Path) -> None:
    error = fails(session, "http://no-such-host.invalid/page", tmp_path)
    assert error.key == "capture.unknown_host"
    assert_clear(error, "no-such-host.invalid")


@pytest.mark.parametrize("status", [404, 500])
def test_error_status(session: Any, site: str, tmp_path: Path, status: int) -> None:
    error = fails(session, f"{site}/status/{status}", tmp_path)
    assert error.key == "capture.http_error"
    assert_clear(error, str(status), "--allow-error-status")


def test_timeout(session: Any, site: str, tmp_path: Path) -> None:
    error = fails(session, f"{site}/hang", tmp_path, navigation_timeout_ms=1500)
    assert error.key == "capture.timeout"
    assert_clear(error, "/hang")


def test_wait_for_never_appears(session: Any, site: str, tmp_path: Path) -> None:
    error = fails(session, f"{site}/bands?n=1", tmp_path, wait_for="#never",
                  navigation_timeout_ms=1000)
    assert error.key == "capture.wait_for_timeout"
    assert_clear(error, "#never")


def test_bad_selector(session: Any, site: str, tmp_path: Path) -> None:
    error = fails(session, f"{site}/bands?n=1", tmp_path, wait_for="##")
    assert error.key == "capture.bad_selector"
    assert_clear(error, "##")


def test_download_is_not_a_page(session: Any, site: str, tmp_path: Path) -> None:
    error = fails(session, f"{site}/download", tmp_path)
    assert error.key == "capture.download"
    assert_clear(error)


def test_untrusted_certificate(session: Any, tmp_path: Path) -> None:
    with serve_https(tmp_path) as (base, _pin):
        error = fails(session, f"{base}/bands?n=1", tmp_path)
    assert error.key == "capture.cert_invalid"
    assert_clear(error, "ERR_CERT_AUTHORITY_INVALID", "--ignore-https-errors")


@pytest.mark.parametrize("option,value", [("max_height", 0), ("viewport_width", -5),
                                          ("tile_height", 10**9), ("scroll_pause_ms", 1.5),
                                          ("wait_for", "  ")])
def test_bad_option(option: str, value: object) -> None:
    with pytest.raises(UserError) as caught:
        CaptureOptions(**{option: value})
    assert_clear(caught.value, option)
