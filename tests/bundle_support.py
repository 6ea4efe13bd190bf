"""Running the ``evidencekit`` command in the test's own process, for the bundle tests.

Same code path as the installed command (``evidencekit.cli.main``: argument parsing, error
sentences, exit codes), without a new interpreter per call, so suites that verify dozens of
forged bundles stay fast. Anything the command failed to handle would surface here as an
exception, so "no traceback" is checked as strictly as in a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import Result


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    """``evidencekit ARGS`` with ``env`` on top of the current environment; ``TMPDIR`` is honoured."""
    from evidencekit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
            if name == "TMPDIR":
                patch.setattr(tempfile, "tempdir", value)  # tempfile caches the folder it chose
        patch.setattr(sys, "argv", ["evidencekit", *map(str, args)])
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())
