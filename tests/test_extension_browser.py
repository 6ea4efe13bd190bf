"""The extension in a real Chromium, talking to the real host over native messaging.

One browser for the module, with the unpacked extension loaded and the host manifest installed
in its profile folder by ``evidencekit extension install --profile-dir``. Tests reach the
extension through its service worker, as the popup does. Chrome grants ``activeTab`` only to a
person's click and shows a prompt for the optional debugger permission that automation cannot
answer (Playwright #32755), so the loaded copy asks for both at install time; its code is the
extension's own. A second copy without the fixed key (so with another id) keeps the worker's
permissions: it shows the host refusing unknown extensions and the full page asking for consent.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from capture_pages.site import NO_DNS, Handler, band_colour
from conftest import PASSPHRASE
from extension_support import extension_browser
from locker_files import make_locker, open_locker
from evidencekit._internal import layout
from evidencekit._internal.demo_site import serve_loopback
from evidencekit._internal.native_host import install

ARTIFACTS = Path(__file__).parent / "artifacts"
NOISE_JS = """<!doctype html><title>Noise</title><body style="margin:0"><canvas id=c width=1280 height=%d></canvas>
<script>const c = document.getElementById('c'), g = c.getContext('2d'), img = g.createImageData(1280, %d);
let s = 42; const d = new Uint32Array(img.data.buffer);
for (let i = 0; i < d.length; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; d[i] = s | 0xff000000; }
g.putImageData(img, 0, 0);</script></body>"""


class Pages(Handler):
    """The capture tests' site plus ``/noise?h=`` (incompressible pixels) and ``/words``."""

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/noise"):
            height = int(self.path.partition("h=")[2] or 5000)
            self._send(200, (NOISE_JS % (height, height)).encode())
        elif self.path == "/words":
            self._send(200, "<!doctype html><title>Words</title><body><p id=a>Du er ubrukelig, ingen vil ha deg her.</p>"
                            "<p>Other text.</p></body>".encode())
        else:
            super().do_GET()


class Browser:
    def __init__(self, context: Any, pinned: Any, unpinned: Any, env: dict[str, str], base: str) -> None:
        self.context, self.pinned, self.unpinned, self.env, self.base = context, pinned, unpinned, env, base
        self.page = context.pages[0]

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.bring_to_front()

    def capture(self, worker: Any = None, **options: Any) -> dict[str, Any]:
        return (worker or self.pinned).evaluate("o => self.evidencekitCapture(o)", options)

    def fails(self, expression: str, arg: Any = None, worker: Any = None) -> str:
        with pytest.raises(Exception) as caught:
            (worker or self.pinned).evaluate(expression, arg)
        return str(caught.value).splitlines()[0]

    @property
    def home(self) -> Path:
        return Path(self.env["EVIDENCEKIT_HOME"])

    def item(self, label: str, case: str | None = None) -> dict[str, Any]:
        with open_locker(self.home) as locker:
            return locker.item(label, case).to_json()

    def count(self) -> int:
        with open_locker(self.home) as locker:
            return sum(c.item_count for c in locker.cases())


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    root = tmp_path_factory.mktemp("extension")
    env = {**os.environ, "EVIDENCEKIT_HOME": str(root / "locker"), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
           "EVIDENCEKIT_LANG": "en", "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}
    with make_locker(root / "locker") as locker:
        locker.create_case("Other case", PASSPHRASE)
        locker.create_case("Harassment at work", PASSPHRASE)  # the current one
    with serve_loopback(Pages) as base, extension_browser(root, env, unpinned=True, args=[NO_DNS]) as (context, workers):
        other = next(w for extension_id, w in workers.items() if extension_id != install.EXTENSION_ID)
        yield Browser(context, workers[install.EXTENSION_ID], other, env, base)


@pytest.fixture
def unlocked(browser: Browser) -> Browser:
    browser.pinned.evaluate("p => self.evidencekitUnlock(p)", PASSPHRASE)
    return browser


def stored_digests(browser: Browser, label: str, case: str | None = None) -> dict[str, str]:
    return {f["name"]: f["sha256"] for f in browser.item(label, case)["files"]}


def reported_digests(result: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["sha256"] for f in result["files"]}


def exported_from(browser: Browser, label: str, case: str, tmp_path: Path) -> Path:
    target = tmp_path / label
    with open_locker(browser.home) as locker:
        locker.export_item(label, target, case)
    return target


def exported(browser: Browser, label: str, tmp_path: Path) -> Path:
    target = tmp_path / label
    with open_locker(browser.home) as locker:
        locker.export_item(label, target)
    return target


def test_locked_until_the_passphrase_is_given(browser: Browser) -> None:
    browser.pinned.evaluate("self.evidencekitLock()")
    browser.open("/bands?n=2&h=500")
    before = browser.count()
    locked = browser.pinned.evaluate("self.evidencekitCases()")
    assert locked == {"locker": "encrypted", "locked": True, "cases": []}  # the titles are encrypted
    assert "The locker is locked: enter your passphrase" in browser.fails("self.evidencekitCapture({mode: 'visible'})")
    assert "The passphrase is wrong" in browser.fails("p => self.evidencekitUnlock(p)", "not it")
    assert browser.pinned.evaluate("self.evidencekitStatus()")["unlocked"] is False
    browser.pinned.evaluate("p => self.evidencekitUnlock(p)", PASSPHRASE)
    assert browser.pinned.evaluate("self.evidencekitStatus()")["unlocked"] is True
    opened = browser.pinned.evaluate("self.evidencekitCases()")
    assert opened["locked"] is False and [c["title"] for c in opened["cases"]] == ["Other case", "Harassment at work"]
    assert browser.count() == before


def test_visible_capture(unlocked: Browser, tmp_path: Path) -> None:
    unlocked.open("/bands?n=10&h=500")
    result = unlocked.capture(mode="visible", who="colleague", channel="Teams", note="Mocking", incidentDate="2026-03-02")
    assert [f["name"] for f in result["files"]] == ["page-viewport.png", "page.mhtml", "page-dom.html", "page-text.txt"]
    assert stored_digests(unlocked, result["item"]) == reported_digests(result)
    shown = unlocked.item(result["item"])
    given = {k: v for k, v in shown["incident"].items() if v not in (None, [])}
    assert given == {"date": "2026-03-02", "who": "colleague", "channel": "Teams", "description": "Mocking"}
    assert shown["acquired"]["final_url"] == unlocked.base + "/bands?n=10&h=500"
    assert shown["acquired"]["extension"]["mhtml_method"] in ("pageCapture", "debugger-page-capture-snapshot")
    files = exported(unlocked, result["item"], tmp_path)
    for name, digest in reported_digests(result).items():
        assert hashlib.sha256((files / name).read_bytes()).hexdigest() == digest
    with Image.open(files / "page-viewport.png") as view:
        assert view.width == 1280 and view.convert("RGB").getpixel((100, 100)) == band_colour(0)
    assert "band 9" in (files / "page-text.txt").read_text()
    assert (files / "page.mhtml").read_bytes().startswith(b"From: <Saved by Blink>")


def test_full_page_has_the_pages_height_without_repeats(unlocked: Browser, tmp_path: Path) -> None:
    unlocked.open("/bands?n=10&h=500")
    result = unlocked.capture(mode="full")
    assert [f["name"] for f in result["files"]][:2] == ["page-full.png", "page-viewport.png"]
    assert stored_digests(unlocked, result["item"]) == reported_digests(result)
    with Image.open(exported(unlocked, result["item"], tmp_path) / "page-full.png") as full:
        picture = full.convert("RGB")
    assert picture.size == (1280, 5000)
    for band in range(10):  # each band where it belongs: not the first screen repeated
        for y in (band * 500 + 5, band * 500 + 250, band * 500 + 495):
            assert picture.getpixel((1000, y)) == band_colour(band), (band, y)
    page = unlocked.item(result["item"])["acquired"]["page"]
    assert (page["page_height"], page["captured_height"], page["truncated"]) == (5000, 5000, False)


def test_large_full_page_travels_in_chunks(unlocked: Browser) -> None:
    unlocked.open("/noise?h=5000")
    result = unlocked.capture(mode="full")
    full = result["files"][0]
    assert full["name"] == "page-full.png" and full["size"] > 15 * 1024 * 1024
    assert full["chunks"] > 4  # 3 MiB each
    assert stored_digests(unlocked, result["item"])["page-full.png"] == full["sha256"]


def test_selected_text(unlocked: Browser, tmp_path: Path) -> None:
    unlocked.open("/words")
    assert "No text is selected" in unlocked.fails("self.evidencekitCapture({mode: 'selection'})")
    unlocked.page.evaluate("""() => { const range = document.createRange();
        range.selectNodeContents(document.getElementById('a'));
        getSelection().removeAllRanges(); getSelection().addRange(range); }""")
    result = unlocked.capture(mode="selection", caseId="Other case")
    assert result["case"]["title"] == "Other case"
    assert "page-selection.txt" in reported_digests(result)
    selected = hashlib.sha256("Du er ubrukelig, ingen vil ha deg her.".encode()).hexdigest()
    assert reported_digests(result)["page-selection.txt"] == selected
    assert stored_digests(unlocked, result["item"], "Other case") == reported_digests(result)
    text = (exported_from(unlocked, result["item"], "Other case", tmp_path) / "page-selection.txt").read_text()
    assert text == "Du er ubrukelig, ingen vil ha deg her."


def test_captures_in_a_row_respect_the_visible_tab_quota(unlocked: Browser) -> None:
    unlocked.open("/bands?n=2&h=500")
    results = unlocked.pinned.evaluate(
        "Promise.all([1, 2, 3].map(() => self.evidencekitCapture({mode: 'visible'})))")
    assert len({r["item"] for r in results}) == 3


def test_bad_requests_store_nothing(unlocked: Browser) -> None:
    unlocked.open("/bands?n=2&h=500")
    before = unlocked.count()
    assert "There is no case 'no-such-case'" in unlocked.fails(
        "self.evidencekitCapture({mode: 'visible', caseId: 'no-such-case'})")
    assert "'sideways' is not a way to capture" in unlocked.fails("self.evidencekitCapture({mode: 'sideways'})")
    assert "setting 'who' is not valid" in unlocked.fails("self.evidencekitCapture({mode: 'visible', who: 'boss'})")
    assert unlocked.count() == before
    # The running host keeps its own work folder (see workdir); nothing of the refused captures is in it.
    left = [p for folder in (unlocked.home / layout.BLOBS / "tmp").glob("work-*") for p in folder.iterdir()]
    assert [p.name for p in left if p.name != "lock"] == []


def test_an_extension_not_in_allowed_origins_cannot_reach_the_host(browser: Browser) -> None:
    assert "not the one evidencekit was connected for" in browser.fails("self.evidencekitCases()", worker=browser.unpinned)


def test_full_page_asks_for_the_debugger_permission_first(browser: Browser) -> None:
    browser.open("/bands?n=2&h=500")
    message = browser.fails("self.evidencekitCapture({mode: 'full'})", worker=browser.unpinned)
    assert "needs the debugger permission" in message


def hosts_of(home: Path) -> list[int]:
    """The process ids of the native hosts the browser started for the locker at ``home``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry.name.isdigit() and b"native-host" in (entry / "cmdline").read_bytes()
                    and f"EVIDENCEKIT_HOME={home}".encode() in (entry / "environ").read_bytes().split(b"\0")):
                found.append(int(entry.name))
        except OSError:  # ended meanwhile, or not ours to read
            continue
    return found


def test_a_host_started_again_gets_this_sessions_passphrase(unlocked: Browser) -> None:
    """The browser ends an idle host; the next one starts locked, and the worker unlocks it with the
    passphrase this browser session holds, so the worker is not asked again."""
    assert unlocked.pinned.evaluate("self.evidencekitCases()")["locked"] is False
    running = hosts_of(unlocked.home)
    assert len(running) == 1, running
    os.kill(running[0], signal.SIGTERM)
    deadline = time.monotonic() + 20
    while hosts_of(unlocked.home) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not hosts_of(unlocked.home)
    again = unlocked.pinned.evaluate("self.evidencekitCases()")
    assert again["locked"] is False and [c["title"] for c in again["cases"]] == ["Other case", "Harassment at work"]
    assert hosts_of(unlocked.home) and hosts_of(unlocked.home) != running


def test_popup_of_a_locked_locker_asks_for_the_passphrase(browser: Browser) -> None:
    """Locked, the popup shows the passphrase field and no case (their titles are encrypted); Unlock
    lists them. Photographed into ``tests/artifacts/`` for a person to look at."""
    browser.pinned.evaluate("self.evidencekitLock()")
    browser.pinned.evaluate("chrome.storage.session.remove('last')")  # an earlier test's capture outcome
    popup = browser.context.new_page()
    try:
        popup.set_viewport_size({"width": 360, "height": 640})
        popup.goto(f"chrome-extension://{install.EXTENSION_ID}/popup.html")
        popup.wait_for_selector("#unlock:not([hidden])")
        assert popup.inner_text("#status") == "The locker is locked: type your passphrase to see your cases."
        assert popup.eval_on_selector_all("#case option", "nodes => nodes.length") == 0
        assert popup.is_hidden("#casePick") and popup.is_hidden("#lock")
        ARTIFACTS.mkdir(exist_ok=True)
        popup.screenshot(path=str(ARTIFACTS / "extension-popup-en-locked.png"), full_page=True)
        popup.fill("#passphrase", "not it")
        popup.press("#passphrase", "Enter")
        popup.wait_for_selector("#result.error")
        assert "The passphrase is wrong" in popup.inner_text("#result")
        popup.fill("#passphrase", PASSPHRASE)
        popup.click("#unlockButton")
        popup.wait_for_selector("#case option:nth-child(2)", state="attached")
        assert popup.is_hidden("#unlock") and popup.is_visible("#casePick") and popup.is_visible("#lock")
        assert popup.inner_text("#status") == ""
        assert popup.input_value("#passphrase") == ""
    finally:
        popup.close()


def test_popup_lists_the_cases_and_explains_the_permission(unlocked: Browser) -> None:
    browser = unlocked
    popup = browser.context.new_page()
    try:
        popup.goto(f"chrome-extension://{install.EXTENSION_ID}/popup.html")
        popup.wait_for_selector("#case option:nth-child(2)", state="attached")  # no string eval: the CSP forbids it
        options = popup.eval_on_selector_all("#case option", "nodes => nodes.map(n => [n.textContent, n.selected])")
        assert [(text.split(" (")[0], chosen) for text, chosen in options] == [("Other case", False),
                                                                              ("Harassment at work", True)]
        assert popup.inner_text("button[data-mode=full]") == "Capture the whole page"
        assert popup.is_hidden("#fullExplain")  # this copy has the permission
        assert popup.input_value("#incidentDate")  # defaults to now
        unpinned_id = browser.unpinned.url.split("/")[2]
        popup.goto(f"chrome-extension://{unpinned_id}/popup.html")
        popup.wait_for_selector("#status:not(:empty)", state="attached")
        assert "not the one evidencekit was connected for" in popup.inner_text("#status")
        assert popup.is_visible("#fullExplain") and "debugger" in popup.inner_text("#fullExplain")
    finally:
        popup.close()


def test_quick_capture_shortcut_is_declared(browser: Browser) -> None:
    status = browser.pinned.evaluate("self.evidencekitStatus()")
    manifest = json.loads((install.source_dir() / "manifest.json").read_text())
    assert manifest["commands"]["quick-capture"]["suggested_key"]["default"] == "Alt+Shift+E"
    assert status["shortcut"] in ("Alt+Shift+E", "")  # a browser may leave a suggested key unassigned
