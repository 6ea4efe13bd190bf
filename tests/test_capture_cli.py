"""``evidencekit capture`` and ``evidencekit demo`` end to end: real Chromium, loopback pages, the locker."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from conftest import run_cli
from evidencekit._internal import layout
from evidencekit._internal.browser import BrowserNotFound, find_browser
from evidencekit._internal.demo_site import serve_demo


@pytest.fixture(autouse=True)
def _browser() -> None:
    try:
        find_browser()
    except BrowserNotFound as error:
        pytest.skip(f"no browser to capture with: {error.message('en')}")


def test_capture_makes_one_item_with_seven_files_and_facts(case_home: Path, tmp_path: Path) -> None:
    with serve_demo() as site:
        result = run_cli("capture", site.url("post"), "--who", "customer", "--channel", "Bygdeprat",
                         "--note", "Comments under the post", "--json")
    assert result.code == 0, result.err
    item = result.json()
    assert item["id"] == "E-001" and item["kind"] == "web"
    names = {f["name"]: f for f in item["files"]}
    assert set(names) == {"page-full.png", "page-viewport.png", "page.mhtml", "page-dom.html", "traffic.har",
                          "page-text.txt", "page.wacz"}
    assert names["page-full.png"]["phash"] and names["page-full.png"]["media_type"] == "image/png"
    acquired = item["acquired"]
    assert acquired["method"] == "web-capture"
    assert "127.0.0.1" in str(acquired) and "Date" in str(acquired)  # URLs, server and the HTTP Date clock
    assert item["incident"]["who"] == "customer"
    out = tmp_path / "out"
    assert run_cli("export", "E-001", "-o", out).code == 0
    assert "Kari Nordmann" in (out / "page-text.txt").read_text(encoding="utf-8")
    assert run_cli("check").code == 0
    assert [e["action"] for e in run_cli("log", "--json").json()] == ["case.create", "item.add"]
    assert not list((case_home / layout.BLOBS / "tmp").iterdir())  # no work files left behind


def test_capture_errors_change_nothing(case_home: Path) -> None:
    before = run_cli("log", "--json").out
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = run_cli("capture", f"http://127.0.0.1:{port}/nothing-here", "--timeout", "5", "--json")
    assert refused.code == 2 and "Traceback" not in refused.err
    assert len(refused.err.strip().splitlines()) == 1, refused.err  # with --json no progress lines
    assert run_cli("capture", "file:///etc/passwd").code == 2
    with serve_demo() as site:
        wrong = run_cli("capture", site.url("chat"), env={"EVIDENCEKIT_PASSPHRASE": "wrong"})
    assert wrong.code == 2 and "passphrase is wrong" in wrong.err
    assert run_cli("log", "--json").out == before


def test_demo_runs_the_whole_job(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = run_cli("demo", "-o", folder, "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert [i["kind"] for i in data["items"]] == ["web", "web", "diary"]
    assert data["verification"]["verdict"] == "valid_with_warnings"  # no timestamp servers in the demo
    assert run_cli("verify", data["bundle"]).code == 0
    again = run_cli("demo", "-o", folder)  # an earlier demo is replaced
    assert again.code == 0, again.err
    taken = tmp_path / "mine"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    refused = run_cli("demo", "-o", taken)
    assert refused.code == 2 and (taken / "keep.txt").read_text() == "mine"
    shutil.rmtree(folder)
