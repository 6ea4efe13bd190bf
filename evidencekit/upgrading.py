"""Upgrade a locker made before encryption at rest: afterwards nothing in it is readable without
the passphrase. Crash-safe: killed at any moment, the folder holds the old locker or the new one,
never a mix (see ``evidencekit._internal.upgrade``); the custody log of every case records it."""

from __future__ import annotations

from pathlib import Path

from evidencekit._internal import upgrade as _upgrade
from evidencekit._internal.progress import Progress
from evidencekit._internal.upgrade import Upgraded
from evidencekit.locker import default_home

__all__ = ["Upgraded", "upgrade"]


def upgrade(home: Path | str | None, passphrase: str, progress: Progress | None = None) -> Upgraded:
    """Encrypt the locker in ``home`` under ``passphrase`` (its current one, checked first)."""
    return _upgrade.upgrade(Path(home) if home else default_home(), passphrase, progress)
