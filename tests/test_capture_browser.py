"""Finding a browser in the order of design §4, and a clear message when there is none."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from evidencekit._internal.browser import (
    ENV_VAR,
    QUIET_ARGS,
    BrowserFailedToStart,
    BrowserNotFound,
    BrowserSession,
    BrowserSettingInvalid,
    find_browser,
    launch_args,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="uses shell scripts as stand-in programs")


def program(directory: Path, name: str, body: str = "exit 0") -> Path:
    """A real executable file (a tiny shell script) standing in for a browser program."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@posix_only
def test_order_setting_env_managed_system(tmp_path: Path) -> None:
    system = program(tmp_path / "bin", "chromium")
    managed = program(tmp_path / "managed", "chrome")
    chosen = program(tmp_path / "chosen", "my-chrome")
    from_env = program(tmp_path / "env", "env-chrome")
    env = {"PATH": str(tmp_path / "bin"), ENV_VAR: str(from_env)}

    found = find_browser(chosen, managed=managed, environ=env)
    assert (found.path, found.source) == (chosen, "setting")
    found = find_browser(None, managed=managed, environ=env)
    assert (found.path, found.source) == (from_env, "environment")
    del env[ENV_VAR]
    found = find_browser(None, managed=managed, environ=env)
    assert (found.path, found.source) == (managed, "playwright")
    found = find_browser(None, managed=tmp_path / "not-installed", environ=env)
    assert (found.path, found.source) == (system, "system")


@posix_only
def test_setting_may_name_a_program_on_path(tmp_path: Path) -> None:
    program(tmp_path / "bin", "google-chrome-beta")
    found = find_browser("google-chrome-beta", environ={"PATH": str(tmp_path / "bin")})
    assert found.path == tmp_path / "bin" / "google-chrome-beta"


def test_none_found_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFound) as caught:
        find_browser(None, managed=tmp_path / "missing", environ={"PATH": str(tmp_path)})
    error = caught.value
    assert error.exit_code == 2
    english, bokmal = error.message("en"), error.message("nb")
    for text in (english, bokmal):
        assert "apt-get install chromium" in text and ENV_VAR in text
        assert "playwright install chromium" in text
    assert "No browser" in english and "Fant ingen nettleser" in bokmal


@posix_only
def test_broken_setting_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    program(tmp_path / "bin", "chromium")
    not_executable = tmp_path / "plain.txt"
    not_executable.write_text("hello")
    for bad in (tmp_path / "missing-browser", not_executable):
        with pytest.raises(BrowserSettingInvalid) as caught:
            find_browser(bad, environ={"PATH": str(tmp_path / "bin")})
        assert str(bad) in caught.value.message("nb")
    with pytest.raises(BrowserSettingInvalid) as caught:
        find_browser(None, environ={"PATH": str(tmp_path / "bin"), ENV_VAR: "/no/such/chrome"})
    assert ENV_VAR in caught.value.message("en") and ENV_VAR in caught.value.message("nb")


def test_launch_flags_keep_chromium_quiet() -> None:
    args = launch_args(["--lang=nb"])
    for flag in ("--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"):
        assert flag in args and flag in QUIET_ARGS
    assert args[-1] == "--lang=nb"
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    assert ("--no-sandbox" in args) == as_root


@posix_only
def test_a_program_that_will_not_start_gives_a_clear_error(tmp_path: Path) -> None:
    fake = program(tmp_path, "chromium", "echo 'this is not a browser' >&2; exit 3")
    with BrowserSession(browser=fake) as session:
        with pytest.raises(BrowserFailedToStart) as caught:
            session.browser
    text = caught.value.message("en")
    assert str(fake) in text and "\n" not in text
    assert text.endswith("this is not a browser")  # what the program itself said
