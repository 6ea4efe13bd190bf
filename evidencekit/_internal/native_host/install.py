"""Where browsers look for native-messaging hosts, and writing ours there.

A host manifest names a program the browser may start and the extensions allowed to start it.
Its ``path`` takes no arguments, so each manifest gets a small generated launcher next to it that
runs ``evidencekit native-host`` with this Python, pinned to the locker chosen at install time.
The extension's id is fixed by the ``key`` in its manifest (``EXTENSION_ID``); Firefox uses the
``gecko.id`` instead. The unpacked extension is ``extension/src`` in the source tree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import shutil
import site
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit import __version__
from evidencekit._internal.native_host import HOST_NAME
from evidencekit.errors import UserError

EXTENSION_ID = "eopfhibapmcgopbnjjnmgppnjhbicfmc"
GECKO_ID = "evidencekit@evidencekit.org"
BROWSERS = ("chromium", "chrome", "edge", "brave", "firefox")
LAUNCHER = "evidencekit-native-host"
PROFILE_SUBDIR = "NativeMessagingHosts"

# Per-user places, relative to the configuration folder (Linux) or Application Support (macOS).
_LINUX = {
    "chromium": "chromium",
    "chrome": "google-chrome",
    "edge": "microsoft-edge",
    "brave": "BraveSoftware/Brave-Browser",
}
_MACOS = {
    "chromium": "Chromium",
    "chrome": "Google/Chrome",
    "edge": "Microsoft Edge",
    "brave": "BraveSoftware/Brave-Browser",
}


def extension_id(public_key: str) -> str:
    """Chrome's id for a manifest ``key``: sha256 of the DER key, first 32 hex digits as a–p."""
    digest = hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def source_dir() -> Path:
    """The unpacked extension for "Load unpacked": the source tree (a checkout or an editable
    install), else where a wheel puts its data files (``<prefix>/share/evidencekit/extension``)."""
    candidates = [Path(__file__).resolve().parents[3] / "extension" / "src"]
    candidates += [Path(base) / "share" / "evidencekit" / "extension" for base in (sys.prefix, site.getuserbase())]
    for candidate in candidates:
        if (candidate / "manifest.json").is_file():
            return candidate
    raise UserError("extension.not_shipped")


def firefox_dir(target: Path) -> Path:
    """The Firefox variant in ``target``: the same files with ``extension/firefox/manifest.json``."""
    source = source_dir()
    overlay = source.parent / "firefox" / "manifest.json"
    if not overlay.is_file():
        raise UserError("extension.not_shipped")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    shutil.copyfile(overlay, target / "manifest.json")
    return target


def automation_copy(target: Path, *, pinned: bool = True) -> Path:
    """A copy for automated runs (tests, benchmark), with the grants a worker gives by clicking.

    Chrome grants ``activeTab`` only when a person clicks the toolbar button or presses the
    shortcut, and shows a prompt for the optional ``debugger`` permission that automation cannot
    answer. This copy asks for both at install instead (all sites, debugger); its code is the
    same. ``pinned=False`` drops the ``key`` (another id) and keeps the worker's permissions.
    """
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source_dir(), target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    if pinned:
        manifest["host_permissions"] = ["<all_urls>"]
        manifest["permissions"] = [*manifest["permissions"], *manifest.pop("optional_permissions", [])]
    else:
        manifest.pop("key")
        manifest["name"] = manifest["name"] + " (unpinned copy)"
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return target


def manifest_dir(browser: str, profile_dir: Path | None = None) -> Path:
    """Where ``browser`` looks for host manifests for this user (or in one profile folder)."""
    if profile_dir is not None:
        if browser == "firefox":
            raise UserError("extension.profile_dir_firefox")
        return profile_dir / PROFILE_SUBDIR
    home = Path.home()
    if sys.platform == "darwin":
        support = home / "Library" / "Application Support"
        if browser == "firefox":
            return support / "Mozilla" / "NativeMessagingHosts"
        return support / _MACOS[browser] / "NativeMessagingHosts"
    if sys.platform == "win32":
        raise UserError("extension.windows_unsupported")
    if browser == "firefox":
        return home / ".mozilla" / "native-messaging-hosts"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return config / _LINUX[browser] / "NativeMessagingHosts"


def host_manifest(browser: str, launcher: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "name": HOST_NAME,
        "description": "evidencekit: store browser captures in your evidence locker",
        "path": str(launcher),
        "type": "stdio",
    }
    if browser == "firefox":
        manifest["allowed_extensions"] = [GECKO_ID]
    else:
        manifest["allowed_origins"] = [f"chrome-extension://{EXTENSION_ID}/"]
    return manifest


def launcher_script(home: Path | None) -> str:
    """A POSIX shell launcher: this Python, ``-m evidencekit native-host``, the chosen locker."""
    lines = [
        "#!/bin/sh",
        f"# Written by 'evidencekit extension install' (evidencekit {__version__}).",
        "# The browser starts this program to hand captures to evidencekit; it takes no input but",
        "# the browser's messages. Remove it with: evidencekit extension uninstall",
    ]
    if home is not None:
        lines += [f"EVIDENCEKIT_HOME={shlex.quote(str(home.resolve()))}", "export EVIDENCEKIT_HOME"]
    lines.append(f'exec {shlex.quote(sys.executable)} -I -m evidencekit native-host "$@"')
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Installed:
    browser: str
    manifest: Path
    launcher: Path

    def to_json(self) -> dict[str, str]:
        return {"browser": self.browser, "manifest": str(self.manifest), "launcher": str(self.launcher)}


def chosen(browser: str) -> tuple[str, ...]:
    return BROWSERS if browser == "all" else (browser,)


def install(browser: str = "all", profile_dir: Path | None = None, home: Path | None = None) -> list[Installed]:
    """Write the host manifest and its launcher for each chosen browser; return where."""
    if profile_dir is not None and browser == "all":
        browsers: tuple[str, ...] = ("chromium",)  # one profile folder: the Chromium-family layout
    else:
        browsers = chosen(browser)
    done = []
    for name in browsers:
        folder = manifest_dir(name, profile_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            launcher = folder / LAUNCHER
            _write(launcher, launcher_script(home), executable=True)
            manifest = folder / f"{HOST_NAME}.json"
            _write(manifest, json.dumps(host_manifest(name, launcher), indent=2) + "\n")
        except OSError as exc:
            raise UserError("extension.cannot_write", path=str(folder), reason=exc.strerror or str(exc)) from None
        done.append(Installed(name, manifest, launcher))
    return done


def uninstall(browser: str = "all", profile_dir: Path | None = None) -> list[Installed]:
    """Remove our manifests and launchers where they exist; return what was removed."""
    browsers = ("chromium",) if profile_dir is not None and browser == "all" else chosen(browser)
    removed = []
    for name in browsers:
        folder = manifest_dir(name, profile_dir)
        manifest, launcher = folder / f"{HOST_NAME}.json", folder / LAUNCHER
        if manifest.exists() or launcher.exists():
            manifest.unlink(missing_ok=True)
            launcher.unlink(missing_ok=True)
            removed.append(Installed(name, manifest, launcher))
    return removed


def _write(path: Path, text: str, executable: bool = False) -> None:
    """Replace ``path`` whole (temp file and rename), so a browser never reads half a manifest."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH if executable else 0o644
    os.chmod(partial, mode)
    os.replace(partial, path)
