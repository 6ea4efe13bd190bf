"""evidencekit: capture, seal and verify evidence of online harassment.

The public API is small: :mod:`evidencekit.locker` (cases, items, custody log),
:mod:`evidencekit.models` (what it returns) and :mod:`evidencekit.errors`. Everything under
``evidencekit._internal`` may change without notice.
"""

# The one place the version is written: the package build reads it here (pyproject.toml), and
# the extension's manifest must say the same (tested). A literal, so ``--version`` reads no metadata.
__version__ = "0.1.0"
