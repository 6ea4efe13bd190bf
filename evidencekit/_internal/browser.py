"""Finding and starting the Chromium that captures web pages.

The browser is found in the order of the design (§4): an explicit setting, then the
``EVIDENCEKIT_BROWSER`` environment variable, then Playwright's own managed Chromium if it was
installed, then a Chromium, Chrome or Edge installed on the system. A setting that names a missing
program is an error rather than a silent fallback, so the worker knows which browser made the
evidence. Every launch gets the flags that keep Chromium from calling home while it captures.

Children die with their parent, even when it is killed outright: on Linux the Playwright driver
and Chromium are started through a tiny launcher that sets ``PR_SET_PDEATHSIG`` and then becomes
the program. Python's death sends the driver SIGTERM (it closes its browsers and removes their
temporary profiles); the driver's death sends Chromium SIGKILL. What they write to the temporary
folder (profiles, downloads, Chromium's own files) goes into a folder of this process's
(:mod:`workdir`), so what a kill leaves there is removed when the next driver starts.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from evidencekit._internal import workdir
from evidencekit.errors import DiskFull, UserError, naming_full_disk

ENV_VAR = "EVIDENCEKIT_BROWSER"

# Chromium otherwise keeps reaching out (updates, sync, field trials, QUIC probes) while it captures.
QUIET_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

_SYSTEM_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "microsoft-edge",
    "microsoft-edge-stable",
    "msedge",
)


def _platform_paths() -> list[Path]:
    """Where Chrome-family browsers install themselves outside ``PATH`` (macOS, Windows)."""
    if sys.platform == "darwin":
        apps = [Path("/Applications"), Path.home() / "Applications"]
        bundles = (
            "Google Chrome.app/Contents/MacOS/Google Chrome",
            "Chromium.app/Contents/MacOS/Chromium",
            "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
        )
        return [app / bundle for app in apps for bundle in bundles]
    if sys.platform == "win32":
        roots = [os.environ.get(v) for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        tails = (
            r"Google\Chrome\Application\chrome.exe",
            r"Chromium\Application\chrome.exe",
            r"Microsoft\Edge\Application\msedge.exe",
        )
        return [Path(root) / tail for root in roots if root for tail in tails]
    return []


class BrowserNotFound(UserError):
    """No Chromium-family browser could be found to capture with."""

    def __init__(self) -> None:
        super().__init__("capture.no_browser", env=ENV_VAR)


class BrowserSettingInvalid(UserError):
    """The browser named by a setting or ``EVIDENCEKIT_BROWSER`` is not a program we can run."""

    def __init__(self, path: str, source: str) -> None:
        key = "capture.browser_env_invalid" if source == "environment" else \
            "capture.browser_setting_invalid"
        super().__init__(key, path=path, env=ENV_VAR)


class BrowserFailedToStart(UserError):
    """The browser program exists but would not start."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__("capture.browser_failed", path=path, reason=reason)


class ProfileInUse(UserError):
    """Another browser window holds the persistent profile open."""

    def __init__(self, profile: str) -> None:
        super().__init__("capture.profile_in_use", profile=profile)


@dataclass(frozen=True)
class FoundBrowser:
    """A browser program and how it was chosen (recorded with every capture)."""

    path: Path
    source: str  # "setting", "environment", "playwright" or "system"


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _from_setting(value: str | os.PathLike[str], source: str,
                  search_path: str | None) -> FoundBrowser:
    text = os.fspath(value).strip()
    candidate = Path(text).expanduser()
    if not candidate.is_absolute() and os.sep not in text:
        located = shutil.which(text, path=search_path)
        candidate = Path(located) if located else candidate
    if not _runnable(candidate):
        raise BrowserSettingInvalid(text, source)
    return FoundBrowser(candidate, source)


def find_browser(
    setting: str | os.PathLike[str] | None = None,
    *,
    managed: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> FoundBrowser:
    """The browser to capture with, following the order of design §4.

    ``setting`` is an explicit choice (a path or a program name); ``managed`` is where
    Playwright keeps its own Chromium (``playwright.chromium.executable_path``), if known.
    """
    env = os.environ if environ is None else environ
    if setting:
        return _from_setting(setting, "setting", env.get("PATH"))
    if env.get(ENV_VAR, "").strip():
        return _from_setting(env[ENV_VAR], "environment", env.get("PATH"))
    if managed and _runnable(Path(managed)):
        return FoundBrowser(Path(managed), "playwright")
    for name in _SYSTEM_NAMES:
        located = shutil.which(name, path=env.get("PATH"))
        if located:
            return FoundBrowser(Path(located), "system")
    for candidate in _platform_paths():
        if _runnable(candidate):
            return FoundBrowser(candidate, "system")
    raise BrowserNotFound()


def launch_args(extra: Sequence[str] = ()) -> list[str]:
    """Command-line flags for every launch: quiet networking, and no sandbox when run as root."""
    args = list(QUIET_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(0, "--no-sandbox")  # Chromium refuses to start sandboxed as root
    args.extend(extra)
    return args


def has_display() -> bool:
    """Whether a visible browser window can be shown (always on macOS and Windows)."""
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


# Run by the launcher: ask for a signal when the parent dies, make sure it has not died already,
# then become the program (the request survives exec).
_PDEATHSIG = """import ctypes, os, sys
ctypes.CDLL(None).prctl(1, int(sys.argv[1]))
if os.getppid() != int(sys.argv[2]):
    os._exit(1)
os.execv(sys.argv[3], sys.argv[3:])
"""


def dies_with_parent(program: str | os.PathLike[str], sig: signal.Signals = signal.SIGKILL) -> str:
    """A program to start instead of ``program`` that runs it so it gets ``sig`` when the process
    that started it dies (Linux); ``program`` itself where that cannot be had.

    The launcher is a shell script kept in the user's cache folder, named by its content.
    """
    if not sys.platform.startswith("linux"):
        return os.fspath(program)
    script = (
        "#!/bin/sh\n# evidencekit: run the program below so that it dies with its parent\n"
        f"exec {shlex.quote(sys.executable)} -I -S -c {shlex.quote(_PDEATHSIG)} "
        f"{int(sig)} \"$PPID\" {shlex.quote(os.fspath(program))} \"$@\"\n"
    )
    folder = Path(platformdirs.user_cache_dir("evidencekit", appauthor=False)) / "launchers"
    launcher = folder / hashlib.sha256(script.encode()).hexdigest()[:24]
    try:
        if not launcher.is_file():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, partial = tempfile.mkstemp(dir=folder, prefix=".partial-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(script)
            os.chmod(partial, 0o700)
            os.replace(partial, launcher)
    except OSError:  # no cache folder to write (read-only home): start the program as it is
        return os.fspath(program)
    return str(launcher)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "message", "") or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _launch_reason(error: BaseException) -> str:
    """What the browser itself said when it would not start (its last stderr line), if anything.

    Playwright's own first line ("Target page, context or browser has been closed") says
    nothing a person can act on; the browser's stderr usually does.
    """
    text = str(getattr(error, "message", "") or error)
    said = [m.group(1).strip() for m in re.finditer(r"\[pid=\d+\]\[err\] (.*)",
                                                   text.split("Call log:", 1)[0])]
    said = [line for line in said if line]
    if said:
        return said[-1][:300]
    exit_code = re.search(r"exitCode=(-?\d+)", text)
    return exit_code.group(0) if exit_code else _first_line(error)


class _Driver:
    """The Playwright driver of this thread, shared by its sessions and stopped with the last.

    Playwright's sync API allows one running driver per thread, so two sessions (say, one with
    extra flags) must share it rather than each start their own.
    """

    _local = threading.local()

    @classmethod
    def acquire(cls) -> Any:
        state = cls._local
        if getattr(state, "users", 0) == 0:
            from playwright.sync_api import sync_playwright

            manager = sync_playwright()
            state.tmp = _own_temporary_folder()
            try:
                with _driver_environment(state.tmp):
                    state.playwright = manager.start()
            except Exception as error:  # noqa: BLE001 - driver missing or broken install
                if state.tmp:
                    state.tmp.remove()
                raise BrowserFailedToStart("playwright", _first_line(error)) from None
            state.manager = manager
            state.users = 0
        state.users += 1
        return state.playwright

    @classmethod
    def release(cls) -> None:
        state = cls._local
        state.users -= 1
        if state.users == 0:
            manager, state.manager, state.playwright = state.manager, None, None
            try:
                manager.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - driver already stopped
                pass
            if state.tmp:
                state.tmp.remove()


def _own_temporary_folder() -> workdir.Owned | None:
    """A folder of this process's in the temporary folder, for the driver and its browsers; the
    ones of killed runs are removed first. None where a deeper path would leave Chromium no room
    for its socket's name (at most 104 bytes), as with a long ``TMPDIR``."""
    tmp = Path(tempfile.gettempdir())
    if len(os.fsencode(tmp)) + len(_TMP_PREFIX) + 10 + len(_CHROMIUM_SOCKET) > 104:
        return None
    with naming_full_disk(tmp):
        workdir.remove_abandoned(tmp, _TMP_PREFIX)
        return workdir.Owned.create(tmp, _TMP_PREFIX)


@contextmanager
def _driver_environment(tmp: workdir.Owned | None) -> Iterator[None]:
    """Start Playwright's driver (Node.js) through a launcher that makes it get SIGTERM when this
    process dies, with ``tmp`` (if any) as its and its browsers' temporary folder.

    Playwright takes both from the environment as the driver starts; they are set only meanwhile.
    """
    from playwright._impl._driver import compute_driver_executable

    wanted = {"TMPDIR": str(tmp.path)} if tmp else {}
    try:
        node, _ = compute_driver_executable()
        wanted[_NODE_VAR] = dies_with_parent(node, signal.SIGTERM)
    except Exception:  # noqa: BLE001 - no driver: Playwright says so itself as it starts
        pass
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_NODE_VAR = "PLAYWRIGHT_NODEJS_PATH"
_TMP_PREFIX = "evidencekit-browser-"
_CHROMIUM_SOCKET = "/org.chromium.Chromium.XXXXXX/SingletonSocket"


class BrowserSession:
    """One Playwright driver and (lazily) one browser, reused for many captures.

    Starting the driver and the browser costs about half a second, so a caller that captures
    several pages (tests, ``evidencekit demo``, interactive mode) keeps one session open.
    Persistent profiles get their own browser process per context, as Chromium requires.
    """

    def __init__(
        self,
        *,
        browser: str | os.PathLike[str] | None = None,
        headless: bool = True,
        extra_args: Sequence[str] = (),
    ) -> None:
        self._setting = browser
        self.headless = headless
        self._extra_args = tuple(extra_args)
        self._playwright: Any = None
        self._browser: Any = None
        self.found: FoundBrowser | None = None

    def __enter__(self) -> BrowserSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> BrowserSession:
        """Start the Playwright driver and pick the browser program (not yet launched)."""
        if self._playwright is not None:
            return self
        self._playwright = _Driver.acquire()
        try:
            managed = self._playwright.chromium.executable_path
        except Exception:  # noqa: BLE001 - no managed browser registered for this platform
            managed = None
        try:
            self.found = find_browser(self._setting, managed=managed)
        except UserError:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Close the browser and stop the driver; safe to call twice."""
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                browser.close()
            except Exception:  # noqa: BLE001 - already gone (crashed or killed)
                pass
        if self._playwright is not None:
            self._playwright = None
            _Driver.release()

    @property
    def playwright(self) -> Any:
        if self._playwright is None:
            self.start()
        return self._playwright

    def _launch_options(self) -> dict[str, Any]:
        assert self.found is not None
        return {
            "executable_path": dies_with_parent(self.found.path),
            "headless": self.headless,
            "args": launch_args(self._extra_args),
        }

    @property
    def browser(self) -> Any:
        """The shared (non-persistent) browser, launched on first use."""
        if self._browser is None:
            from playwright.sync_api import Error

            playwright = self.playwright
            try:
                self._browser = playwright.chromium.launch(**self._launch_options())
            except Error as error:
                raise self._failed(error) from None
        return self._browser

    def _failed(self, error: BaseException) -> UserError:
        """Why the browser would not start; a full disk (its temporary profile) named as such."""
        full = re.search(r"ENOSPC[^']*'([^']+)'", str(error))
        if full:
            return DiskFull(Path(full.group(1)).parent)
        if "ENOSPC" in str(error):
            return DiskFull(tempfile.gettempdir())
        return BrowserFailedToStart(str(self.found.path if self.found else "?"), _launch_reason(error))

    @contextmanager
    def context(self, *, profile_dir: Path | None = None, **options: Any) -> Iterator[Any]:
        """A fresh browser context, closed (and its HAR written) when the block ends.

        With ``profile_dir`` the context is persistent: cookies and logins stay in that
        directory between captures. ``options`` are Playwright context options
        (``viewport``, ``record_har_path``, ``ignore_https_errors`` …).
        """
        if profile_dir is None:
            context = self.browser.new_context(**options)
        else:
            context = self._launch_persistent(Path(profile_dir), options)
        try:
            yield context
        finally:
            try:
                context.close()
            except Exception:  # noqa: BLE001 - browser died; nothing left to close
                pass

    def _launch_persistent(self, profile_dir: Path, options: dict[str, Any]) -> Any:
        from playwright.sync_api import Error

        profile_dir.mkdir(parents=True, exist_ok=True)
        try:
            return self.playwright.chromium.launch_persistent_context(
                str(profile_dir), **self._launch_options(), **options)
        except Error as error:
            text = str(error)
            if "ProcessSingleton" in text or "SingletonLock" in text or "in use" in text:
                raise ProfileInUse(profile_dir.name) from None
            raise self._failed(error) from None

    def describe(self, context: Any) -> dict[str, object]:
        """Name, version and origin of the browser behind ``context``, for the record."""
        browser = getattr(context, "browser", None) or self._browser
        version = ""
        if browser is not None:
            try:
                version = browser.version
            except Exception:  # noqa: BLE001
                version = ""
        return {
            "name": "chromium",
            "version": version,
            "program": self.found.path.name if self.found else "",
            "found_by": self.found.source if self.found else "",
            "headless": self.headless,
        }
