"""``evidencekit setup``: identity, connectors for the browsers found, the packed extension, doctor.

Runs in a temporary HOME with a PATH that shows exactly the browsers a test wants. The packed
extension is unzipped and loaded into the real Chromium to read the id it gets; the Firefox
package is made by the real web-ext and linted by it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from conftest import PASSPHRASE, run_cli
from evidencekit import __version__, installation
from evidencekit._internal import layout, locker_key
from evidencekit._internal.browser import find_browser, launch_args
from evidencekit._internal.native_host import HOST_NAME, install
from evidencekit.errors import UserError
from evidencekit.locker import Locker
from extension_support import chromium_only_home

EXTENSION = Path(__file__).resolve().parents[1] / "extension"
WEB_EXT_BIN = EXTENSION / "node_modules" / ".bin"


@pytest.fixture
def worker(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A worker's HOME with a real Chromium on PATH (and nothing else of the system's browsers)."""
    return chromium_only_home(tmp_path, monkeypatch)


def extension_folder(user: Path) -> Path:
    return user / ".local" / "share" / "evidencekit-extension"


def test_setup_twice_changes_nothing_the_second_time(worker: Path, home: Path) -> None:
    first = run_cli("setup", "--yes", "--json", "--kdf", "interactive")
    assert first.code == 0, first.err
    done = first.json()
    assert done["changed"] and done["identity"]["created"] and done["doctor"]["healthy"]
    checked = {c["piece"]: c["status"] for c in done["doctor"]["checks"]}
    assert checked["locker"] == checked["keys"] == "ok"  # the new locker's contents, not only "locked"
    assert locker_key.strength(home / layout.KEY) == "interactive"
    assert [c["browser"] for c in done["connectors"]] == ["chromium"]
    manifest = worker / ".config" / "chromium" / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    assert done["connectors"][0]["manifest"] == str(manifest) and manifest.is_file()
    folder = extension_folder(worker)
    packed = folder / f"evidencekit-extension-{__version__}.zip"
    assert done["extension"]["zip"] == str(packed) and done["extension"]["xpi"] is None  # no web-ext on PATH
    readme = (folder / "README.txt").read_text()
    assert "Load unpacked" in readme and "Last inn upakket" in readme
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in [*folder.rglob("*"), manifest] if p.is_file()}

    again = run_cli("setup", "--yes", "--kdf", "interactive")
    assert again.code == 0, again.err
    assert "Everything was already set up; nothing was changed." in again.out
    assert "Identity key already in place" in again.out and "Chromium: connector already in place" in again.out
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in [*folder.rglob("*"), manifest] if p.is_file()}
    assert after == before  # not rewritten, not even with the same bytes
    assert run_cli("setup", "--yes", "--json", "--kdf", "interactive").json()["changed"] is False
    assert "Nettlesertillegget ligger allerede" in run_cli("--lang", "nb", "setup", "--yes").out


def test_setup_yes_needs_the_passphrase_from_the_environment(worker: Path, home: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    refused = run_cli("setup", "--yes")
    assert refused.code == 2
    assert refused.err.strip().splitlines()[-1] == \
        "--yes asks nothing, so the new passphrase must come from EVIDENCEKIT_PASSPHRASE."
    weak = run_cli("setup", "--yes", env={"EVIDENCEKIT_PASSPHRASE": "password1"})
    assert weak.code == 2 and "Traceback" not in weak.err
    assert not (worker / ".config").exists()  # nothing installed before the identity exists


def test_setup_of_an_existing_locker_needs_its_passphrase(worker: Path, home: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("setup", "--yes", "--kdf", "interactive").code == 0
    made = (home / layout.KEY).read_bytes()
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    locked = run_cli("setup", "--yes")
    assert locked.code == 2 and "Traceback" not in locked.err
    assert locked.err.strip().splitlines()[-1] == \
        "The locker is locked: its contents are encrypted. Unlock it first with: evidencekit unlock"
    assert (home / layout.KEY).read_bytes() == made  # no second locker, no new identity
    wrong = run_cli("setup", "--yes", env={"EVIDENCEKIT_PASSPHRASE": "another strong passphrase of hers"})
    assert wrong.code == 2 and "The passphrase is wrong" in wrong.err
    assert (home / layout.KEY).read_bytes() == made


def test_setup_of_a_locker_of_an_earlier_version_points_at_upgrade(worker: Path, home: Path, tmp_path: Path) -> None:
    with tarfile.open(Path(__file__).parent / "previous_locker" / "locker-0.1.0.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")  # its folder is locker/, the home fixture's
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    result = run_cli("setup", "--yes", "--kdf", "interactive")
    assert result.code == 2 and "Traceback" not in result.err
    assert "Encrypt it first with: evidencekit upgrade" in result.err
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before  # no new locker made beside the old one
    assert Locker.state(home) == "plain"


def test_ensure_identity_asks_only_for_a_new_locker(tmp_path: Path) -> None:
    home = tmp_path / "locker"
    asked: list[str] = []

    def ask() -> str:
        asked.append("new")
        return PASSPHRASE

    def existing() -> Locker:
        asked.append("existing")
        return Locker.open(home, PASSPHRASE)

    made = installation.ensure_identity(home, ask, existing, "interactive")
    assert made.created and asked == ["new"] and Locker.state(home) == "encrypted"
    with Locker.open(home, PASSPHRASE) as locker:
        assert locker.identity() == made.key
    again = installation.ensure_identity(home, ask, existing, "interactive")
    assert not again.created and again.key == made.key and asked == ["new", "existing"]


def test_ensure_identity_refuses_a_weak_passphrase_before_making_anything(tmp_path: Path) -> None:
    home = tmp_path / "locker"
    with pytest.raises(UserError):
        installation.ensure_identity(home, lambda: "password1", lambda: pytest.fail("no locker to open"), "interactive")
    assert Locker.state(home) == "none" and not home.exists()


def test_the_packed_extension_loads_in_chromium_with_the_pinned_id(worker: Path, home: Path, tmp_path: Path) -> None:
    assert run_cli("setup", "--yes", "--kdf", "interactive").code == 0
    packed = extension_folder(worker) / f"evidencekit-extension-{__version__}.zip"
    unpacked = tmp_path / "from-zip"
    with zipfile.ZipFile(packed) as archive:
        archive.extractall(unpacked)
    assert json.loads((unpacked / "manifest.json").read_text())["version"] == __version__
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(find_browser().path), headless=True,
            args=launch_args([f"--disable-extensions-except={unpacked}", f"--load-extension={unpacked}"]))
        try:
            deadline = time.monotonic() + 20
            while not context.service_workers and time.monotonic() < deadline:
                context.wait_for_event("serviceworker", timeout=20_000)
            ids = {worker.url.split("/")[2] for worker in context.service_workers}
        finally:
            context.close()
    assert ids == {install.EXTENSION_ID}


def test_the_firefox_package_is_made_by_web_ext_and_passes_its_lint(worker: Path, home: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    node = shutil.which("node", path=os.environ.get("PATH", "") + os.pathsep + os.defpath)
    if node is None or not (WEB_EXT_BIN / "web-ext").exists():
        pytest.skip("web-ext is not installed; run: npm ci --prefix extension")
    monkeypatch.setenv("PATH", f"{WEB_EXT_BIN}{os.pathsep}{Path(node).parent}{os.pathsep}{os.environ['PATH']}")
    first = run_cli("setup", "--yes", "--json", "--kdf", "interactive")
    assert first.code == 0, first.err
    xpi = Path(first.json()["extension"]["xpi"])
    assert xpi.name == f"evidencekit-extension-{__version__}.xpi"
    contents = tmp_path / "xpi"
    with zipfile.ZipFile(xpi) as archive:
        archive.extractall(contents)
    assert json.loads((contents / "manifest.json").read_text())["browser_specific_settings"]["gecko"]["id"] == \
        install.GECKO_ID
    lint = subprocess.run([str(WEB_EXT_BIN / "web-ext"), "lint", "--source-dir", str(contents), "--output", "json",
                           "--no-input"], capture_output=True, text=True, timeout=180)
    assert json.loads(lint.stdout)["errors"] == [] and lint.returncode == 0, lint.stdout[-2000:]
    stamp = xpi.stat().st_mtime_ns
    assert run_cli("setup", "--yes", "--json", "--kdf", "interactive").json()["changed"] is False
    assert xpi.stat().st_mtime_ns == stamp  # web-ext not run again for the same files


def _converse(command: list[str], env: dict[str, str], script: list[tuple[str, str]], timeout: float = 120) -> str:
    """Run ``command`` on a terminal of its own, answering each prompt of ``script`` as it appears."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI as a person starts it
        os.execve(command[0], command, env)
    seen, deadline = b"", time.monotonic() + timeout
    steps = list(script)
    try:
        while time.monotonic() < deadline:
            if steps and steps[0][0].encode() in seen:
                os.write(fd, (steps.pop(0)[1] + "\n").encode())
                seen += b"\n"  # each prompt is answered once, even when its words come again later
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child closed the terminal: it has finished
                    break
                if not chunk:
                    break
                seen += chunk
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert not steps, f"never asked: {steps}\n{seen.decode(errors='replace')}"
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    return seen.decode(errors="replace").replace("\r\n", "\n")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a terminal of its own (pty)")
def test_setup_asks_language_and_passphrase_twice_on_a_terminal(worker: Path, home: Path) -> None:
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("EVIDENCEKIT_LANG", "EVIDENCEKIT_PASSPHRASE")}
    env["LANG"] = "C.UTF-8"
    said = _converse([sys.executable, "-m", "evidencekit", "setup", "--kdf", "interactive"], env,
                     [("Language / Språk (en, nb) [en]:", "nb"), ("Velg en passordfrase", "correct horse battery staple"),
                      ("Skriv passordfrasen én gang til", "correct horse battery staple")])
    assert "Glemmer du den, kan ingenting og ingen åpne nøkkelen din igjen" in said
    assert "Identitetsnøkkelen er laget." in said and "Alt er på plass." in said
    assert "0 saker, ingenting er endret" in said and "er låst" not in said  # doctor opened the new locker
    assert "correct horse" not in said  # the passphrase is not echoed
