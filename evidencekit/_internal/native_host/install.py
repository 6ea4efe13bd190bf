"""Where browsers look for native-messaging hosts, and writing ours there.

A host manifest names a program the browser may start and the extensions allowed to start it.
Its ``path`` takes no arguments, so each manifest gets a small generated launcher next to it that
runs ``evidencekit native-host`` with this Python, pinned to the locker chosen at install time: a
shell script on Linux and macOS, a ``.cmd`` file on Windows (browsers start it through cmd.exe).
Linux and macOS browsers find the manifest by its folder; Windows browsers by a registry value
under ``HKEY_CURRENT_USER`` naming the manifest's path, written by :func:`_register` alone.
The extension's id is fixed by the ``key`` in its manifest (``EXTENSION_ID``); Firefox uses the
``gecko.id`` instead. The unpacked extension is ``extension/src`` in the source tree, and
``evidencekit/data/extension/src`` in an installed package (the build copies it there).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shlex
import shutil
import stat
import sys
import zipfile
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
# Windows: the registry keys (under HKEY_CURRENT_USER) each browser reads host manifests' paths from.
_WINDOWS = {
    "chromium": r"Software\Chromium\NativeMessagingHosts",
    "chrome": r"Software\Google\Chrome\NativeMessagingHosts",
    "edge": r"Software\Microsoft\Edge\NativeMessagingHosts",
    "brave": r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
    "firefox": r"Software\Mozilla\NativeMessagingHosts",
}
# The programs that tell a browser is installed: names on PATH (Linux, and anything on PATH),
# app bundles (macOS, under /Applications or ~/Applications), and files under Windows' program folders.
_PROGRAMS = {
    "chromium": ("chromium", "chromium-browser"),
    "chrome": ("google-chrome", "google-chrome-stable"),
    "edge": ("microsoft-edge", "microsoft-edge-stable"),
    "brave": ("brave-browser", "brave"),
    "firefox": ("firefox", "firefox-esr"),
}
_MAC_APPS = {"chromium": "Chromium.app", "chrome": "Google Chrome.app", "edge": "Microsoft Edge.app",
             "brave": "Brave Browser.app", "firefox": "Firefox.app"}
_WINDOWS_PROGRAMS = {  # under Program Files or LOCALAPPDATA ("/" is a separator on Windows too)
    "chromium": "Chromium/Application/chrome.exe",
    "chrome": "Google/Chrome/Application/chrome.exe",
    "edge": "Microsoft/Edge/Application/msedge.exe",
    "brave": "BraveSoftware/Brave-Browser/Application/brave.exe",
    "firefox": "Mozilla Firefox/firefox.exe",
}
# A packed extension is the same on every run: fixed member times, so setup can tell "unchanged".
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def _platform() -> str:
    """``sys.platform``, read in one place so tests can ask for another system's layout."""
    return sys.platform


def extension_id(public_key: str) -> str:
    """Chrome's id for a manifest ``key``: sha256 of the DER key, first 32 hex digits as a–p."""
    digest = hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def source_dir() -> Path:
    """The unpacked extension: inside the installed package, else the checkout (an editable install)."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "data" / "extension" / "src", here.parents[3] / "extension" / "src"):
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


def pack(target: Path) -> Path:
    """The extension as one zip (``evidencekit-extension-<version>.zip``) to keep or hand on.

    Byte for byte the same on every run, so writing it again is a visible no-op. Its manifest keeps
    the ``key``, so once unpacked and loaded it has the pinned id.
    """
    source = source_dir()
    data = _zip_bytes(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (target.is_file() and target.read_bytes() == data):
        _write_bytes(target, data)
    return target


def _zip_bytes(folder: Path) -> bytes:
    """``folder``'s files as zip bytes: sorted names, fixed times, so equal trees give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def present(environ: dict[str, str] | None = None) -> list[str]:
    """The browsers installed for this user, of those the extension supports, in ``BROWSERS`` order."""
    env = os.environ if environ is None else environ
    system = _platform()
    found = []
    for browser in BROWSERS:
        if any(shutil.which(name, path=env.get("PATH")) for name in _PROGRAMS[browser]):
            found.append(browser)
        elif system == "darwin" and any((apps / _MAC_APPS[browser]).is_dir()
                                        for apps in (Path("/Applications"), Path.home() / "Applications")):
            found.append(browser)
        elif system == "win32" and any(
                (Path(root) / _WINDOWS_PROGRAMS[browser]).is_file()
                for root in (env.get(v) for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")) if root):
            found.append(browser)
    return found


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
    system = _platform()
    if system == "darwin":
        support = home / "Library" / "Application Support"
        if browser == "firefox":
            return support / "Mozilla" / "NativeMessagingHosts"
        return support / _MACOS[browser] / "NativeMessagingHosts"
    if system == "win32":  # any folder will do: the registry names it
        local = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return local / "evidencekit" / "NativeMessagingHosts" / browser
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


def launcher_name() -> str:
    return LAUNCHER + ".cmd" if _platform() == "win32" else LAUNCHER


def launcher_script(home: Path | None) -> str:
    """The launcher: this Python, ``-m evidencekit native-host``, the chosen locker."""
    if _platform() == "win32":
        return _windows_launcher(home)
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


def _windows_launcher(home: Path | None) -> str:
    """A batch file for cmd.exe: Windows starts no script without an extension it knows.

    Inside double quotes only ``%`` still means something to cmd.exe (Windows paths hold no ``"``).
    """
    def quoted(text: str) -> str:
        return '"' + text.replace("%", "%%") + '"'

    lines = [
        "@echo off",
        f"rem Written by 'evidencekit extension install' (evidencekit {__version__}).",
        "rem The browser starts this program to hand captures to evidencekit.",
        "rem Remove it with: evidencekit extension uninstall",
    ]
    if home is not None:
        lines.append("set " + quoted(f"EVIDENCEKIT_HOME={home.resolve()}"))
    lines.append(f"{quoted(sys.executable)} -I -m evidencekit native-host %*")
    return "\r\n".join(lines) + "\r\n"


@dataclass(frozen=True)
class Installed:
    browser: str
    manifest: Path
    launcher: Path
    changed: bool = True  # False when the files were already exactly so

    def to_json(self) -> dict[str, object]:
        return {"browser": self.browser, "manifest": str(self.manifest), "launcher": str(self.launcher),
                "changed": self.changed}


def chosen(browser: str) -> tuple[str, ...]:
    return BROWSERS if browser == "all" else (browser,)


def install(browser: str = "all", profile_dir: Path | None = None, home: Path | None = None) -> list[Installed]:
    """Write the host manifest and its launcher for each chosen browser; return where, and whether
    anything had to change (files already so are left alone, so installing twice changes nothing)."""
    if profile_dir is not None and browser == "all":
        browsers: tuple[str, ...] = ("chromium",)  # one profile folder: the Chromium-family layout
    else:
        browsers = chosen(browser)
    done = []
    for name in browsers:
        folder = manifest_dir(name, profile_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            launcher = folder / launcher_name()
            changed = _write(launcher, launcher_script(home), executable=True)
            manifest = folder / f"{HOST_NAME}.json"
            changed |= _write(manifest, json.dumps(host_manifest(name, launcher), indent=2) + "\n")
            if _platform() == "win32" and profile_dir is None:
                _register(_WINDOWS[name], manifest)
        except OSError as exc:
            raise UserError("extension.cannot_write", path=str(folder), reason=exc.strerror or str(exc)) from None
        done.append(Installed(name, manifest, launcher, changed))
    return done


def uninstall(browser: str = "all", profile_dir: Path | None = None) -> list[Installed]:
    """Remove our manifests and launchers where they exist; return what was removed."""
    browsers = ("chromium",) if profile_dir is not None and browser == "all" else chosen(browser)
    removed = []
    for name in browsers:
        folder = manifest_dir(name, profile_dir)
        manifest, launcher = folder / f"{HOST_NAME}.json", folder / launcher_name()
        if _platform() == "win32" and profile_dir is None:
            _register(_WINDOWS[name], None)
        if manifest.exists() or launcher.exists():
            manifest.unlink(missing_ok=True)
            launcher.unlink(missing_ok=True)
            removed.append(Installed(name, manifest, launcher))
    return removed


def _register(key: str, manifest: Path | None) -> None:
    """Point ``HKEY_CURRENT_USER\\<key>\\<host name>`` at ``manifest``, or remove it (``None``).

    The only code that touches the Windows registry; everything around it is tested on Linux.
    """
    import winreg  # Windows only

    path = f"{key}\\{HOST_NAME}"
    if manifest is None:
        try:
            winreg.DeleteKey(winreg.HKEY_CURRENT_USER, path)
        except FileNotFoundError:
            pass
        return
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, path) as handle:
        winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, str(manifest))


def _write(path: Path, text: str, executable: bool = False) -> bool:
    """Replace ``path`` whole (temp file and rename), so a browser never reads half a manifest.
    Returns whether it changed: a file that already says ``text`` is left as it is."""
    mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH if executable else 0o644
    if path.is_file() and path.read_bytes() == text.encode("utf-8") and stat.S_IMODE(path.stat().st_mode) == mode:
        return False
    _write_bytes(path, text.encode("utf-8"), mode)
    return True


def _write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.chmod(partial, mode)
    os.replace(partial, path)
