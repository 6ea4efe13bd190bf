"""What ``evidencekit setup`` does after the package is installed, as steps a script can call.

Each step leaves alone what is already right and says whether it changed anything, so running
setup again (by the worker, or by the IT person installing for her) is a visible no-op. The
extension is written where a person can find it, as a folder for "Load unpacked", a zip to keep
or pass on, and (when web-ext is at hand) the Firefox package, with instructions beside them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from evidencekit import __version__
from evidencekit._internal.keys import require_strong_passphrase
from evidencekit._internal.native_host import install as hosts
from evidencekit.i18n import t
from evidencekit.locker import Locker
from evidencekit.models import KeyInfo

EXTENSIONS_PAGE = {"chromium": "chrome://extensions", "chrome": "chrome://extensions", "edge": "edge://extensions",
                   "brave": "brave://extensions", "firefox": "about:debugging#/runtime/this-firefox"}


@dataclass(frozen=True)
class Identity:
    key: KeyInfo
    created: bool


@dataclass(frozen=True)
class ExtensionFiles:
    folder: Path  # unpacked, for "Load unpacked"
    zip: Path
    xpi: Path | None  # None when web-ext is not installed
    instructions: Path
    changed: bool

    def to_json(self) -> dict[str, object]:
        return {"folder": str(self.folder), "zip": str(self.zip), "xpi": str(self.xpi) if self.xpi else None,
                "instructions": str(self.instructions), "changed": self.changed}


def default_extension_dir() -> Path:
    """A per-user folder outside the locker (the locker is private, and backed up as a whole)."""
    return platformdirs.user_data_path("evidencekit-extension", appauthor=False)


def ensure_identity(home: Path | None, ask: Callable[[], str], existing: Callable[[], Locker],
                    strength: str = "moderate") -> Identity:
    """The worker's identity key: of the locker ``existing()`` opens, or made now with a new locker
    (passphrase from ``ask``, strength checked) if there is none."""
    if Locker.state(home) != "none":
        return Identity(existing().identity(), False)
    secret = ask()
    require_strong_passphrase(secret)
    with Locker.create(home, secret, strength) as locker:
        return Identity(locker.identity(), True)


def write_extension(target: Path) -> ExtensionFiles:
    """The packed extension, its unpacked folder, the Firefox package and the instructions, in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    stem = f"evidencekit-extension-{__version__}"
    packed = target / f"{stem}.zip"
    before = packed.read_bytes() if packed.is_file() else None
    hosts.pack(packed)
    changed = before != packed.read_bytes()
    changed |= _unpack(packed, target / stem)
    xpi, xpi_changed = _firefox_package(target / f"{stem}.xpi")
    changed |= xpi_changed
    instructions = target / "README.txt"
    text = instructions_text(target / stem, xpi)
    if not (instructions.is_file() and instructions.read_text(encoding="utf-8") == text):
        instructions.write_text(text, encoding="utf-8")
        changed = True
    return ExtensionFiles(target / stem, packed, xpi, instructions, changed)


def _unpack(packed: Path, folder: Path) -> bool:
    """``folder`` holds exactly the zip's files; rewritten only when it does not."""
    with zipfile.ZipFile(packed) as archive:
        wanted = {name: archive.read(name) for name in archive.namelist()}
    have = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else {}
    if have.keys() == wanted.keys() and all(have[n].read_bytes() == data for n, data in wanted.items()):
        return False
    if folder.exists():
        shutil.rmtree(folder)
    with zipfile.ZipFile(packed) as archive:
        archive.extractall(folder)
    return True


def web_ext() -> str | None:
    """Mozilla's web-ext program, which packs the Firefox add-on, if it is on PATH."""
    return shutil.which("web-ext")


def _firefox_package(xpi: Path) -> tuple[Path | None, bool]:
    """The Firefox add-on made by ``web-ext build`` (None without web-ext); rebuilt only when its
    files differ from the extension's."""
    program = web_ext()
    if program is None:
        return None, False
    with tempfile.TemporaryDirectory(prefix="evidencekit-firefox-") as scratch:
        variant = hosts.firefox_dir(Path(scratch) / "variant")
        wanted = {p.relative_to(variant).as_posix(): p.read_bytes() for p in variant.rglob("*") if p.is_file()}
        if xpi.is_file():
            with zipfile.ZipFile(xpi) as archive:
                names = {n for n in archive.namelist() if not n.endswith("/")}  # web-ext lists folders too
                if names == wanted.keys() and all(archive.read(n) == d for n, d in wanted.items()):
                    return xpi, False
        built = Path(scratch) / "built"
        subprocess.run([program, "build", "--source-dir", str(variant), "--artifacts-dir", str(built),
                        "--filename", xpi.name, "--overwrite-dest", "--no-input"],
                       check=True, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        shutil.move(str(built / xpi.name), xpi)
    return xpi, True


def instructions_text(folder: Path, xpi: Path | None) -> str:
    """README.txt beside the packages, in both languages: whoever opens the folder can read it."""
    parts = []
    for lang in ("nb", "en"):
        parts.append(t("setup.instructions", lang, folder=str(folder), version=__version__))
        parts.append(t("setup.instructions_firefox", lang, xpi=str(xpi)) if xpi else
                     t("setup.instructions_no_xpi", lang))
    return "\n\n".join(parts) + "\n"
