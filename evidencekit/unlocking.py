"""Unlock once per login session, so commands stop asking for the passphrase until ``lock``.

The passphrase is checked here, then held only in the memory of an agent process that answers
this user in this login session alone (see ``evidencekit._internal.agent``); it ends on
:func:`lock`, after the ``unlock_idle`` setting's seconds without use, or at logout.
"""

from __future__ import annotations

from pathlib import Path

from evidencekit._internal import agent
from evidencekit.locker import Locker, default_home


def _home(home: Path | str | None) -> Path:
    return Path(home) if home else default_home()


def unlock(locker: Locker, passphrase: str) -> float:
    """Check that ``passphrase`` opens ``locker`` (its locker key), then hold it for this login
    session; the idle timeout in seconds. A wrong passphrase raises and leaves any earlier unlock
    as it was."""
    locker.identity_signer(passphrase)
    idle = float(locker.setting_value("unlock_idle"))  # type: ignore[arg-type]
    agent.start(locker.home, passphrase, idle)
    return idle


def lock(home: Path | str | None = None) -> bool:
    """Forget this login session's unlock of the locker; whether it was unlocked."""
    return agent.lock(_home(home))


def passphrase(home: Path | str | None = None) -> str | None:
    """The passphrase this login session unlocked the locker with, or None."""
    return agent.passphrase(_home(home))
