"""Errors the importers raise: every one is a sentence for the person importing, exit code 2.

Why subclasses: the CLI treats them all as :class:`~evidencekit.errors.UserError`, while a
caller that can ask a question (the day/month order) can catch :class:`NeedsDateOrder` alone.
"""

from __future__ import annotations

from evidencekit.errors import UserError


class ImportFailed(UserError):
    """The export cannot be read as the format it claims (damaged, hostile, wrong kind)."""


class UnknownFormat(ImportFailed):
    """No importer recognises the file."""


class NeedsDateOrder(ImportFailed):
    """Day/month order cannot be decided from the export; ask for ``date_order``."""

    def __init__(self, key: str, *, candidates: list[str], **params: object) -> None:
        super().__init__(key, candidates=", ".join(candidates), **params)
        self.candidates = candidates
