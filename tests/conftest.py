"""Shared test helpers: a fresh locker per test and the real CLI run as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from evidencekit.i18n import set_language

PASSPHRASE = "correct horse battery staple"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*args: str | os.PathLike[str], input: str | None = None, env: dict[str, str] | None = None,
            **popen: Any) -> Result:
    """Run ``python -m evidencekit`` exactly as a user would, in the test's environment."""
    proc = subprocess.run(
        [sys.executable, "-m", "evidencekit", *map(str, args)],
        input=input, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300, **popen,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def quiet_locker_env(home: Path) -> dict[str, str]:
    """A test locker at ``home``: its passphrase, English, and no timestamp servers to call."""
    return {"EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE, "EVIDENCEKIT_LANG": "en",
            "EVIDENCEKIT_OTS_CALENDARS": "", "EVIDENCEKIT_TSA_URLS": ""}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="run slow campaigns in full, not a bounded sample")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long campaign; runs a bounded sample unless --slow is given")


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts in English, whatever an earlier in-process CLI call chose with --lang."""
    monkeypatch.setenv("EVIDENCEKIT_LANG", "en")
    monkeypatch.setenv("TZ", "Europe/Oslo")  # the zone the worker's bare times are read in
    set_language(None)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty locker location, with passphrase and language set for the CLI."""
    locker_home = tmp_path / "locker"
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(locker_home))
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("EVIDENCEKIT_LANG", "en")
    monkeypatch.setenv("EVIDENCEKIT_OTS_CALENDARS", "")  # tests never reach public servers;
    monkeypatch.setenv("EVIDENCEKIT_TSA_URLS", "")  # stamping tests name loopback ones
    return locker_home


@pytest.fixture
def case_home(home: Path) -> Path:
    """A locker with an identity (quick KDF) and one chosen case."""
    assert run_cli("init", "--kdf", "interactive").code == 0
    assert run_cli("case", "new", "Test case").code == 0
    return home
