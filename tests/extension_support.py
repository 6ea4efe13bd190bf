"""A real Chromium with the unpacked extension and the real native host, for the extension tests.

The host manifest is installed in the browser's own profile folder by ``evidencekit extension
install --profile-dir`` (its launcher made to run the evidencekit the tests import); the extension
is the automation copy (the same code, with the grants a worker gives by clicking). The browser
gets the environment without the passphrase: the pages must unlock, as the worker does.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from host_support import host_from_this_tree
from evidencekit._internal.browser import BrowserNotFound, find_browser, launch_args
from evidencekit._internal.native_host import install


@contextmanager
def extension_browser(root: Path, env: dict[str, str], *, unpinned: bool = False,
                      args: Sequence[str] = ()) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The browser context and its extensions' service workers by extension id."""
    try:
        program = find_browser()
    except BrowserNotFound as error:
        pytest.skip(f"no browser: {error.message('en')}")
    profile = root / "profile"
    assert run_cli("extension", "install", "--browser", "chromium", "--profile-dir", profile, env=env).code == 0
    host_from_this_tree(profile / install.PROFILE_SUBDIR / install.launcher_name())
    copies = [install.automation_copy(root / "pinned")]
    if unpinned:
        copies.append(install.automation_copy(root / "unpinned", pinned=False))
    loaded = ",".join(str(c) for c in copies)
    browser_env = {k: v for k, v in env.items() if k != "EVIDENCEKIT_PASSPHRASE"}
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(program.path), headless=True, no_viewport=True, env=browser_env,
            args=launch_args([*args, "--window-size=1280,800", f"--disable-extensions-except={loaded}",
                              f"--load-extension={loaded}"]))
        try:
            deadline = time.monotonic() + 20
            while len(context.service_workers) < len(copies) and time.monotonic() < deadline:
                context.wait_for_event("serviceworker", timeout=20_000)
            yield context, {w.url.split("/")[2]: w for w in context.service_workers}
        finally:
            context.close()


def chromium_only_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A worker's HOME whose PATH holds the real Chromium and the few tools its wrapper scripts run,
    and none of the system's other browsers; skipped where there is no browser at all."""
    try:
        chromium = find_browser().path
    except BrowserNotFound as error:
        pytest.skip(f"no browser: {error.message('en')}")
    user, programs = tmp_path / "user-home", tmp_path / "programs"
    user.mkdir()
    programs.mkdir()
    (programs / "chromium").symlink_to(chromium)
    for tool in ("sh", "cat", "dirname", "uname", "readlink", "grep", "sed", "id", "df", "env", "ls"):
        if shutil.which(tool):
            (programs / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.setenv("PATH", str(programs))
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "EVIDENCEKIT_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return user
