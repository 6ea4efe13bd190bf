"""Where the case page's reports and bundles land: the worker's Downloads folder, chosen here.

Why the host writes and not the browser's downloads: a bundle is written, signed and logged in
one go by the same call the command line makes, and the PDF is printed from the locker; handing
hundreds of megabytes back through 1 MiB replies would only add a copy. The page never names a
path: it gets back the name the host chose, which never replaces a file already there.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs


def folder() -> Path:
    """The user's Downloads folder (``XDG_DOWNLOAD_DIR`` on Linux), made if it is missing."""
    path = Path(platformdirs.user_downloads_dir())
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_name(stem: str, suffix: str) -> Path:
    """``stem.suffix`` in Downloads, or ``stem (2).suffix`` … when that name is taken."""
    where = folder()
    candidate = where / f"{stem}{suffix}"
    number = 2
    while candidate.exists():
        candidate = where / f"{stem} ({number}){suffix}"
        number += 1
    return candidate
