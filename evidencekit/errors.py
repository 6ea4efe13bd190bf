"""The errors evidencekit raises, each carrying a sentence a worker understands and an exit code.

Exit codes: 0 all is well, 1 a check or verification found a problem, 2 bad input or usage.
Messages are catalog keys (see :mod:`evidencekit.i18n`) so the same error reads in bokmål or
English; the CLI prints ``str(error)`` and exits with ``error.exit_code``.
"""

from __future__ import annotations

from evidencekit.i18n import t


class EvidencekitError(Exception):
    """Base of every error meant for the person at the keyboard."""

    exit_code = 2

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def message(self, lang: str | None = None) -> str:
        return t(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message()


class UserError(EvidencekitError):
    """Bad input or usage: a missing file, an unknown item, a wrong passphrase."""


class NotFound(UserError):
    """A case, an item or a file the user named does not exist."""


class WrongPassphrase(UserError):
    """The passphrase does not open the key."""


class LockerError(UserError):
    """The locker cannot be used as it is (newer schema, not a locker, no identity yet)."""


class VerificationFailed(EvidencekitError):
    """A check found that evidence, a log, a signature or a proof does not hold."""

    exit_code = 1
