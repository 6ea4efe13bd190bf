"""Whether the pieces of an installation fit together, each named, with the command that fixes it.

Every check returns a :class:`Check` (what was found, and for a failure the one command that
mends it); the ``doctor`` command only prints them. Nothing here goes on the network unless asked
(``online``): asking the timestamp servers is traffic the worker chose. The checks start quickly,
so a worker or a helper can run them often.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from evidencekit import __version__
from evidencekit._internal.native_host import HOST_NAME
from evidencekit._internal.native_host import install as hosts
from evidencekit.errors import EvidencekitError, UserError, WrongPassphrase
from evidencekit.i18n import t

LOW_DISK = 1024**3  # below this a few screen recordings fill the disk: say so
NO_DISK = 200 * 1024**2  # below this the next capture may fail half-way
BROWSER_LABELS = {"chromium": "Chromium", "chrome": "Google Chrome", "edge": "Microsoft Edge", "brave": "Brave",
                  "firefox": "Firefox"}


@dataclass(frozen=True)
class Check:
    """One piece: ``ok``, ``warn`` (works, but look) or ``fail`` (and the command that fixes it)."""

    piece: str
    status: str
    key: str
    params: dict[str, object] = field(default_factory=dict)
    fix: str | None = None

    def message(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)

    def to_json(self) -> dict[str, object]:
        return {"piece": self.piece, "status": self.status, "message": self.message(), "fix": self.fix,
                "facts": self.params}


def run(home: Path | None = None, *, online: bool = False, passphrase: str | None = None) -> list[Check]:
    """Every check, in the order a person would fix them: program, browser, connector, locker.

    The locker's contents are checked only with its ``passphrase`` (it is encrypted)."""
    browser = _browser()  # asks the browser its version meanwhile: it takes as long as the rest
    checks = [_python(), _extension()]
    checks += [_host(name, home) for name in hosts.present()]
    checks += list(_locker(home, online, passphrase))
    checks.append(_disk(home))
    return checks[:2] + [browser()] + checks[2:]


def healthy(checks: list[Check]) -> bool:
    return all(c.status != "fail" for c in checks)


def _python() -> Check:
    return Check("evidencekit", "ok", "doctor.program", {
        "version": __version__, "python": ".".join(map(str, sys.version_info[:3])), "executable": sys.executable})


def _extension() -> Check:
    """The extension files this installation hands to browsers, with the id the connector allows."""
    try:
        folder = hosts.source_dir()
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        pinned = hosts.extension_id(manifest["key"])
    except (UserError, OSError, ValueError, KeyError):
        return Check("extension", "fail", "doctor.extension_missing", fix="pipx reinstall evidencekit")
    if pinned != hosts.EXTENSION_ID or manifest.get("version") != __version__:
        return Check("extension", "fail", "doctor.extension_mismatch",
                     {"id": pinned, "version": manifest.get("version")}, "pipx reinstall evidencekit")
    return Check("extension", "ok", "doctor.extension_ok", {"id": pinned, "path": str(folder)})


def _install_browser_fix() -> str:
    if sys.platform == "darwin":
        return "brew install --cask chromium"
    if sys.platform == "win32":
        return "winget install Google.Chrome"
    return "sudo apt-get install chromium"


def _managed_chromium() -> str | None:
    """Playwright's own Chromium, if one was downloaded (found by its folder; starting Playwright to
    ask would take longer than every other check together)."""
    if os.environ.get("PLAYWRIGHT_BROWSERS_PATH"):
        root = Path(os.environ["PLAYWRIGHT_BROWSERS_PATH"])
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches" / "ms-playwright"
    elif sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ms-playwright"
    else:
        root = Path.home() / ".cache" / "ms-playwright"
    pattern = {"darwin": "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
               "win32": "chromium-*/chrome-win*/chrome.exe"}.get(sys.platform, "chromium-*/chrome-linux*/chrome")
    found = sorted(root.glob(pattern)) if root.is_dir() else []
    return str(found[-1]) if found else None


def _browser() -> Callable[[], Check]:
    """The Chromium-family browser that captures pages (the extension's browsers are checked apart).

    Returns at once; calling the result waits for the browser's ``--version``, asked only of a
    build not seen before (the answer is kept in the user's cache folder)."""
    from evidencekit._internal.browser import find_browser

    try:
        found = find_browser(managed=_managed_chromium())
    except UserError as error:
        missing = Check("browser", "fail", "doctor.browser_missing", {"reason": error.message()}, _install_browser_fix())
        return lambda: missing
    known = _known_versions()
    stamp = _program_stamp(found.path)
    asked: subprocess.Popen[str] | None = None
    if stamp not in known:  # a browser not seen in this exact build yet: ask it, meanwhile
        try:
            asked = subprocess.Popen([str(found.path), "--version"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        except OSError:
            asked = None

    def answer() -> Check:
        said = known.get(stamp, "")
        if asked is not None:
            try:
                said = asked.communicate(timeout=10)[0].strip()
            except subprocess.TimeoutExpired:
                asked.kill()
                asked.communicate()
            if said:
                _remember_version(stamp, said)
        return Check("browser", "ok", "doctor.browser_ok", {"version": said or "?", "path": str(found.path),
                                                            "found_by": found.source,
                                                            "how": t("doctor.found_" + found.source)})

    return answer


def _versions_file() -> Path:
    import platformdirs

    return platformdirs.user_cache_path("evidencekit", appauthor=False) / "browser-versions.json"


def _program_stamp(program: Path) -> str:
    """The program's file as it is now: an update replaces the file, so the stamp changes with it."""
    try:
        real = program.resolve()
        info = real.stat()
    except OSError:
        return str(program)
    return f"{real}:{info.st_size}:{info.st_mtime_ns}"


def _known_versions() -> dict[str, str]:
    """Versions browsers gave before: starting one only to ask takes longer than all other checks."""
    try:
        known = json.loads(_versions_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in known.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(known, dict) else {}


def _remember_version(stamp: str, version: str) -> None:
    path = _versions_file()
    known = {**_known_versions(), stamp: version}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(known, indent=1), encoding="utf-8")
        os.replace(partial, path)
    except OSError:  # a read-only cache only means asking again next time
        pass


def _host(browser: str, home: Path | None) -> Check:
    """The connector of one installed browser: there, and starting this installation's Python."""
    label = BROWSER_LABELS[browser]
    fix = f"evidencekit extension install --browser {browser}"
    folder = hosts.manifest_dir(browser)
    path = folder / f"{HOST_NAME}.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Check(f"connector.{browser}", "fail", "doctor.host_missing", {"browser": label, "path": str(path)}, fix)
    except (OSError, ValueError):
        return Check(f"connector.{browser}", "fail", "doctor.host_broken", {"browser": label, "path": str(path)}, fix)
    launcher = Path(str(manifest.get("path", "")))
    try:
        started = launcher.read_text(encoding="utf-8")
    except OSError:
        started = ""
    this_python = hosts.launcher_script(None).splitlines()[-1]  # the line that starts this installation
    if manifest != hosts.host_manifest(browser, launcher) or this_python not in started.splitlines():
        return Check(f"connector.{browser}", "fail", "doctor.host_elsewhere",
                     {"browser": label, "path": str(path)}, fix)
    return Check(f"connector.{browser}", "ok", "doctor.host_ok", {"browser": label, "path": str(path)})


def _locker(home: Path | None, online: bool, passphrase: str | None) -> Iterator[Check]:
    from evidencekit.locker import Locker, default_home

    where = Path(home) if home else default_home()
    state = Locker.state(where)
    if state == "none":
        yield Check("locker", "fail", "doctor.locker_missing", {"path": str(where)}, "evidencekit setup")
        return
    if state == "plain":
        yield Check("locker", "fail", "doctor.locker_plain", {"path": str(where)}, "evidencekit upgrade")
        return
    if passphrase is None:
        yield Check("locker", "warn", "doctor.locker_locked", {"path": str(where)}, "evidencekit unlock")
        return
    try:
        locker = Locker.open(where, passphrase)
    except WrongPassphrase:  # the locker may be fine: the passphrase given to this command is not hers
        yield Check("locker", "fail", "doctor.locker_wrong_passphrase", {"path": str(where)})
        return
    except Exception as error:  # noqa: BLE001 - any reason it will not open is the finding
        reason = error.message() if isinstance(error, EvidencekitError) else f"{type(error).__name__}: {error}"
        yield Check("locker", "fail", "doctor.locker_unreadable", {"path": str(where), "reason": reason},
                    "evidencekit check --all")
        return
    with locker:
        yield from _locker_contents(locker, online)


def _locker_contents(locker, online: bool) -> Iterator[Check]:  # noqa: ANN001 - a Locker, imported late
    from evidencekit._internal import stamp_queue

    try:
        reports = [locker.check(case.id) for case in locker.cases()]
        problems = sum(len(r.problems) for r in reports)
        failed = [locker.case(r.case_id).title for r in reports if not r.ok]
    except Exception as error:  # noqa: BLE001 - a locker too damaged to read is the finding
        yield Check("locker", "fail", "doctor.locker_unreadable",
                    {"path": str(locker.home), "reason": f"{type(error).__name__}: {error}"}, "evidencekit check --all")
        return
    if problems:
        yield Check("locker", "fail", "doctor.locker_damaged",
                    {"path": str(locker.home), "problems": problems, "cases": ", ".join(failed)}, "evidencekit check --all")
    else:
        yield Check("locker", "ok", "doctor.locker_ok", {"path": str(locker.home), "count": len(reports)})
    try:
        info = locker.identity()
        yield Check("keys", "ok", "doctor.keys_ok", {"fingerprint": info.fingerprint})
    except UserError:
        yield Check("keys", "fail", "doctor.keys_missing", fix="evidencekit setup")
    counts = stamp_queue.counts(locker.db)
    waiting = counts.get("queued", 0)
    yield Check("timestamps", "warn" if waiting else "ok", "doctor.stamps", dict(counts),
                "evidencekit stamp" if waiting else None)
    if online:
        yield from _servers(stamp_queue.servers(locker.db))


def _servers(servers: list[tuple[str, str]]) -> Iterator[Check]:
    """Whether each configured timestamp server answers at all (any HTTP reply counts)."""
    from evidencekit._internal.timestamps import http

    if not servers:
        yield Check("servers", "fail", "doctor.no_servers", fix="evidencekit config unset tsa_urls")
    for kind, url in servers:  # one silent server is no failure: the others stand in for it
        setting = "ots_calendars" if kind == "ots" else "tsa_urls"
        try:
            http.request(url, timeout=5, max_bytes=4096)
        except http.ServerError as error:
            yield Check(f"server.{kind}", "warn", "doctor.server_silent",
                        {"url": http.public_url(url), "reason": error.message(), "setting": setting})
        else:
            yield Check(f"server.{kind}", "ok", "doctor.server_answers", {"url": http.public_url(url)})


def _disk(home: Path | None) -> Check:
    from evidencekit.locker import default_home

    where = Path(home) if home else default_home()
    existing = next(p for p in (where, *where.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    params = {"free_mb": free // 1024**2, "path": str(existing)}
    if free < NO_DISK:
        return Check("disk", "fail", "doctor.disk_full", params)
    return Check("disk", "warn" if free < LOW_DISK else "ok", "doctor.disk", params)
