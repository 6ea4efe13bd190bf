"""evidencekit: capture, seal and verify evidence of online harassment.

The public API is small: :mod:`evidencekit.locker` (cases, items, custody log),
:mod:`evidencekit.models` (what it returns) and :mod:`evidencekit.errors`. Everything under
``evidencekit._internal`` may change without notice.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evidencekit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
