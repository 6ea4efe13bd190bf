"""Where the connector goes on macOS and Windows, tested on Linux around the one registry call.

The layout code reads the system from one function (``install._platform``); here it answers
"darwin" or "win32". On Windows the registry writes are recorded instead of made: ``_register``
is the only code that has not run here (docs/extension.md says so).
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from evidencekit._internal.native_host import HOST_NAME, install


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def test_macos_places(user: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install, "_platform", lambda: "darwin")
    support = user / "Library" / "Application Support"
    assert {b: install.manifest_dir(b) for b in install.BROWSERS} == {
        "chromium": support / "Chromium" / "NativeMessagingHosts",
        "chrome": support / "Google" / "Chrome" / "NativeMessagingHosts",
        "edge": support / "Microsoft Edge" / "NativeMessagingHosts",
        "brave": support / "BraveSoftware" / "Brave-Browser" / "NativeMessagingHosts",
        "firefox": support / "Mozilla" / "NativeMessagingHosts",
    }
    done = install.install("chrome", None, user / "locker")
    assert done[0].launcher.name == "evidencekit-native-host"
    assert done[0].launcher.read_text().startswith("#!/bin/sh\n")


def test_windows_manifests_launcher_and_registry(user: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = tmp_path / "AppData" / "Local"
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    monkeypatch.setattr(install, "_platform", lambda: "win32")
    registry: dict[str, str | None] = {}
    monkeypatch.setattr(install, "_register", lambda key, manifest: registry.__setitem__(
        key, None if manifest is None else str(manifest)))
    locker = tmp_path / "50% locker"  # a % must not reach cmd.exe as a variable
    done = install.install("all", None, locker)
    assert [d.browser for d in done] == list(install.BROWSERS)
    assert registry == {
        r"Software\Chromium\NativeMessagingHosts": str(local / "evidencekit" / "NativeMessagingHosts" / "chromium" / f"{HOST_NAME}.json"),
        r"Software\Google\Chrome\NativeMessagingHosts": str(local / "evidencekit" / "NativeMessagingHosts" / "chrome" / f"{HOST_NAME}.json"),
        r"Software\Microsoft\Edge\NativeMessagingHosts": str(local / "evidencekit" / "NativeMessagingHosts" / "edge" / f"{HOST_NAME}.json"),
        r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts": str(local / "evidencekit" / "NativeMessagingHosts" / "brave" / f"{HOST_NAME}.json"),
        r"Software\Mozilla\NativeMessagingHosts": str(local / "evidencekit" / "NativeMessagingHosts" / "firefox" / f"{HOST_NAME}.json"),
    }
    chrome = next(d for d in done if d.browser == "chrome")
    manifest = json.loads(chrome.manifest.read_text())
    assert manifest["path"] == str(chrome.launcher) and chrome.launcher.name == "evidencekit-native-host.cmd"
    assert manifest["allowed_origins"] == [f"chrome-extension://{install.EXTENSION_ID}/"]
    script = chrome.launcher.read_bytes().decode()
    assert script.startswith("@echo off\r\n") and script.endswith("\r\n") and "\n" not in script.replace("\r\n", "")
    assert f'set "EVIDENCEKIT_HOME={str(locker.resolve()).replace("%", "%%")}"\r\n' in script
    assert f'"{sys.executable}" -I -m evidencekit native-host %*\r\n' in script

    again = install.install("all", None, locker)
    assert not any(d.changed for d in again)  # the same files: nothing rewritten

    removed = install.uninstall("all")
    assert len(removed) == 5 and set(registry.values()) == {None}
    assert not chrome.manifest.exists() and not chrome.launcher.exists()


def test_browsers_found_by_their_programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    programs = tmp_path / "bin"
    programs.mkdir()
    for name in ("google-chrome-stable", "firefox-esr", "not-a-browser"):
        (programs / name).write_text("#!/bin/sh\n")
        (programs / name).chmod(stat.S_IRWXU)
    monkeypatch.setattr(install, "_platform", lambda: "linux")
    assert install.present({"PATH": str(programs)}) == ["chrome", "firefox"]
    monkeypatch.setattr(install, "_platform", lambda: "win32")
    edge = tmp_path / "Program Files" / "Microsoft" / "Edge" / "Application"
    edge.mkdir(parents=True)
    (edge / "msedge.exe").write_bytes(b"MZ")
    assert install.present({"PATH": "", "PROGRAMFILES": str(tmp_path / "Program Files")}) == ["edge"]
