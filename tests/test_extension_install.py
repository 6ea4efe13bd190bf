"""Installing the native host for each browser, the extension's files, and the Firefox lint.

Installs go into a temporary HOME; the launcher written there is then run as a browser would
run it, to prove the manifest points at something that really answers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from host_support import host_from_this_tree
from evidencekit import __version__
from evidencekit._internal.native_host import HOST_NAME, install

EXTENSION = Path(__file__).resolve().parents[1] / "extension"

WHERE = {  # per-user places on Linux, relative to HOME
    "chromium": ".config/chromium/NativeMessagingHosts",
    "chrome": ".config/google-chrome/NativeMessagingHosts",
    "edge": ".config/microsoft-edge/NativeMessagingHosts",
    "brave": ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
    "firefox": ".mozilla/native-messaging-hosts",
}


@pytest.fixture
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    user = tmp_path / "user-home"
    user.mkdir()
    monkeypatch.setenv("HOME", str(user))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return user


def ask_launcher(launcher: Path, env: dict[str, str]) -> dict:
    """Start the launcher as a browser does (origin as argument) and ask it for the cases."""
    host_from_this_tree(launcher)
    body = json.dumps({"type": "cases", "id": "c1"}).encode()
    proc = subprocess.run([str(launcher), f"chrome-extension://{install.EXTENSION_ID}/"],
                          input=struct.pack("=I", len(body)) + body, capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (length,) = struct.unpack("=I", proc.stdout[:4])
    return json.loads(proc.stdout[4:4 + length])


@pytest.mark.skipif(os.name != "posix" or not Path("/proc").exists(), reason="Linux locations")
def test_install_writes_every_browsers_manifest(case_home: Path, fake_home: Path) -> None:
    result = run_cli("extension", "install", "--json")
    assert result.code == 0, result.err
    written = {entry["browser"]: entry for entry in result.json()}
    assert set(written) == set(WHERE)
    for browser, place in WHERE.items():
        manifest_path = fake_home / place / f"{HOST_NAME}.json"
        assert written[browser]["manifest"] == str(manifest_path)
        manifest = json.loads(manifest_path.read_text())
        launcher = Path(manifest["path"])
        assert launcher == fake_home / place / "evidencekit-native-host" and os.access(launcher, os.X_OK)
        assert manifest["name"] == HOST_NAME and manifest["type"] == "stdio"
        if browser == "firefox":
            assert manifest["allowed_extensions"] == [install.GECKO_ID] and "allowed_origins" not in manifest
        else:
            assert manifest["allowed_origins"] == [f"chrome-extension://{install.EXTENSION_ID}/"]
            assert "allowed_extensions" not in manifest
    # the launcher takes no arguments from the manifest and keeps the locker chosen at install time;
    # started without a passphrase, it finds that locker encrypted and locked
    env = {k: v for k, v in os.environ.items() if k not in ("EVIDENCEKIT_HOME", "EVIDENCEKIT_PASSPHRASE")}
    reply = ask_launcher(fake_home / WHERE["chrome"] / "evidencekit-native-host", env)
    assert reply == {"type": "cases", "id": "c1", "locker": "encrypted", "locked": True, "cases": []}
    reply = ask_launcher(fake_home / WHERE["chromium"] / "evidencekit-native-host",
                         {**env, "EVIDENCEKIT_PASSPHRASE": os.environ["EVIDENCEKIT_PASSPHRASE"]})
    assert reply["locked"] is False and [c["title"] for c in reply["cases"]] == ["Test case"]

    human = run_cli("extension", "install", "--browser", "chrome")
    assert "Google Chrome: connector written to" in human.out and "Load unpacked" in human.out

    removed = run_cli("extension", "uninstall", "--json").json()
    assert {entry["browser"] for entry in removed} == set(WHERE)
    assert not any((fake_home / place / f"{HOST_NAME}.json").exists() for place in WHERE.values())
    assert not any((fake_home / place / "evidencekit-native-host").exists() for place in WHERE.values())
    assert run_cli("extension", "uninstall").out.strip() == "No connector was installed, so nothing was removed."


def test_install_into_a_profile_folder(home: Path, fake_home: Path, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    result = run_cli("extension", "install", "--browser", "chromium", "--profile-dir", profile, "--json")
    assert result.code == 0, result.err
    manifest = json.loads((profile / "NativeMessagingHosts" / f"{HOST_NAME}.json").read_text())
    assert Path(manifest["path"]).parent == profile / "NativeMessagingHosts"
    assert not (fake_home / ".config").exists()  # nothing in the user's own browser folders
    refused = run_cli("extension", "install", "--browser", "firefox", "--profile-dir", profile)
    assert refused.code == 2
    assert refused.err.strip() == "Firefox does not read connectors from a profile folder; leave out --profile-dir for Firefox."
    assert run_cli("extension", "uninstall", "--profile-dir", profile).code == 0
    assert list((profile / "NativeMessagingHosts").iterdir()) == []


def test_extension_path_and_its_fixed_id(fake_home: Path) -> None:
    chromium = Path(run_cli("extension", "path").out.strip())
    manifest = json.loads((chromium / "manifest.json").read_text())
    assert install.extension_id(manifest["key"]) == install.EXTENSION_ID
    assert manifest["version"] == __version__
    firefox = Path(run_cli("extension", "path", "--browser", "firefox").out.strip())
    assert firefox.is_relative_to(fake_home)  # built in the user's cache, not in the package
    variant = json.loads((firefox / "manifest.json").read_text())
    assert variant["browser_specific_settings"]["gecko"]["id"] == install.GECKO_ID
    assert (firefox / "background.js").read_bytes() == (chromium / "background.js").read_bytes()


def test_the_firefox_variant_matches_the_chromium_manifest() -> None:
    chromium = json.loads((EXTENSION / "src" / "manifest.json").read_text())
    firefox = json.loads((EXTENSION / "firefox" / "manifest.json").read_text())
    for key in ("manifest_version", "name", "short_name", "description", "version", "default_locale", "icons",
                "action", "commands"):
        assert firefox[key] == chromium[key], key
    assert firefox["background"]["service_worker"] == chromium["background"]["service_worker"]
    scripts = firefox["background"]["scripts"]
    assert scripts[-1] == "background.js"
    loaded = re.search(r"importScripts\(([^)]*)\)", (EXTENSION / "src" / "background.js").read_text()).group(1)
    assert [s.strip().strip('"') for s in loaded.split(",")] == scripts[:-1]  # same files, same order
    # Firefox has neither pageCapture nor the debugger; everything else is the same
    assert set(firefox["permissions"]) == set(chromium["permissions"]) - {"pageCapture"}
    assert chromium["optional_permissions"] == ["debugger"] and "host_permissions" not in chromium


def _placeholders(entry: dict) -> set[str]:
    return set(re.findall(r"\$([A-Z_]+)\$", entry["message"]))


def test_locales_match_and_every_message_exists() -> None:
    locales = EXTENSION / "src" / "_locales"
    en = json.loads((locales / "en" / "messages.json").read_text())
    nb = json.loads((locales / "nb" / "messages.json").read_text())
    assert en.keys() == nb.keys()
    for key in en:
        assert _placeholders(en[key]) == _placeholders(nb[key]), key
        assert {p.upper() for p in en[key].get("placeholders", {})} == _placeholders(en[key]), key
        assert nb[key].get("placeholders") == en[key].get("placeholders"), key
        if len(en[key]["message"].split()) >= 3:
            assert en[key]["message"] != nb[key]["message"], f"{key} is not translated"
    used = set()
    for path in (EXTENSION / "src").rglob("*"):
        if path.suffix in (".js", ".html", ".json") and "_locales" not in path.parts:
            text = path.read_text()
            used |= set(re.findall(r'(?:getMessage|text|fail|failure)\("([A-Za-z]+)"', text))
            used |= set(re.findall(r'data-i18n(?:-placeholder)?="([A-Za-z]+)"', text))
            used |= set(re.findall(r"__MSG_([A-Za-z]+)__", text))
    assert used - en.keys() == set()


def test_firefox_variant_passes_web_ext_lint(tmp_path: Path) -> None:
    npx = shutil.which("npx")
    if npx is None or shutil.which("node") is None:
        pytest.skip("node and npm are not installed, so web-ext cannot run")
    if not (EXTENSION / "node_modules" / ".bin" / "web-ext").exists():
        pytest.skip("web-ext is not installed; run: npm ci --prefix extension")
    variant = install.firefox_dir(tmp_path / "firefox")
    proc = subprocess.run([npx, "--no-install", "web-ext", "lint", "--source-dir", str(variant), "--output", "json",
                           "--no-input"], cwd=EXTENSION, capture_output=True, text=True, timeout=120)
    report = json.loads(proc.stdout)
    assert report["errors"] == [], report["errors"]
    # What a cross-browser MV3 extension cannot avoid: Firefox ignores the service worker (it uses
    # background.scripts) and has no debugger or pageCapture APIs (the code checks before using them).
    expected = {("BACKGROUND_SERVICE_WORKER_IGNORED", "manifest.json"), ("UNSUPPORTED_API", "lib/capture.js")}
    assert {(w["code"], w["file"]) for w in report["warnings"]} <= expected, report["warnings"]
    assert proc.returncode == 0
