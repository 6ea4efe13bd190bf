"""Pytest fixtures for the timestamp tests: fresh loopback servers, closed after each use.

Import the fixtures you need into a test module (``from servers.fixtures import calendar``);
everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .block_sources import BitcoindRpc, EsploraApi
from .chain import SyntheticChain
from .misbehaving import MisbehavingServer
from .ots_calendar import LoopbackCalendar
from .tsa import LocalTsa

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def corpus_dir(sub: str) -> Path:
    """A corpus folder, or skip the test when the shared corpus is not next to the repository."""
    folder = CORPUS / sub
    if not folder.is_dir():
        pytest.skip(f"shared test corpus not found ({sub}); it lives beside the repository")
    return folder


@pytest.fixture
def chain() -> SyntheticChain:
    return SyntheticChain()


@pytest.fixture
def calendar(chain: SyntheticChain) -> Iterator[LoopbackCalendar]:
    server = LoopbackCalendar(chain)
    yield server
    server.close()


@pytest.fixture
def second_calendar(chain: SyntheticChain) -> Iterator[LoopbackCalendar]:
    server = LoopbackCalendar(chain)
    yield server
    server.close()


@pytest.fixture
def bitcoin_rpc(chain: SyntheticChain) -> Iterator[BitcoindRpc]:
    server = BitcoindRpc(chain)
    yield server
    server.close()


@pytest.fixture
def esplora(chain: SyntheticChain) -> Iterator[EsploraApi]:
    server = EsploraApi(chain)
    yield server
    server.close()


@pytest.fixture
def misbehaving() -> Iterator[Callable[[str], MisbehavingServer]]:
    """A factory: ``misbehaving("hang")`` starts a server in that mode."""
    started: list[MisbehavingServer] = []

    def start(mode: str) -> MisbehavingServer:
        server = MisbehavingServer(mode)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def _need_openssl() -> None:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed for the local TSA")


@pytest.fixture(scope="module")
def tsa() -> Iterator[LocalTsa]:
    _need_openssl()
    server = LocalTsa("Loopback")
    yield server
    server.close()


@pytest.fixture(scope="module")
def other_tsa() -> Iterator[LocalTsa]:
    """A second TSA with its own, untrusted root."""
    _need_openssl()
    server = LocalTsa("Stranger")
    yield server
    server.close()


@pytest.fixture(scope="module")
def chained_tsa() -> Iterator[LocalTsa]:
    """A TSA behind an intermediate CA that embeds its chain in chain order."""
    _need_openssl()
    server = LocalTsa("Chained", intermediate=True)
    yield server
    server.close()
