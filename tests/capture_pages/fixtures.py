"""Fixtures the capture test modules share: one browser and one loopback site per module.

Import them into a test module (``from capture_pages.fixtures import session, site``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from capture_pages.site import serve, session_or_skip


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    s = session_or_skip()
    yield s
    s.close()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve() as base:
        yield base
