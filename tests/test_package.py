"""The package as a worker installs it: built, installed into a fresh virtualenv, run from elsewhere.

The wheel is built from the sdist (as ``python -m build`` does), so both must carry everything. It
is installed without ``-e`` into a new virtualenv that sees none of this checkout, with its
dependencies from the wheelhouse ``make test`` fills (tests reach only loopback). Then, from a
folder outside the checkout and with a temporary HOME: ``--version``, ``setup --yes``, ``doctor``,
``extension path`` and ``demo``, and every data file of the installed package against the tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from conftest import PASSPHRASE
from evidencekit import __version__
from evidencekit._internal.browser import BrowserNotFound, find_browser
from evidencekit._internal.native_host import install

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"


def tracked_data_files() -> dict[str, bytes]:
    """What the installed ``evidencekit`` folder must hold besides code: by path inside it."""
    listed = subprocess.run(["git", "ls-files", "evidencekit", "extension/src", "extension/firefox"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    wanted = {}
    for name in listed:
        if name.startswith("evidencekit/") and not name.endswith(".py"):
            wanted[name.removeprefix("evidencekit/")] = (ROOT / name).read_bytes()
        elif name.startswith("extension/"):
            wanted["data/" + name] = (ROOT / name).read_bytes()
    return wanted


def runtime_requirements() -> list[Requirement]:
    return [Requirement(line) for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]


def test_the_wheelhouse_holds_every_runtime_dependency() -> None:
    """The offline install below needs a wheel of each dependency pyproject names, at a version it allows."""
    if not any(WHEELHOUSE.glob("*.whl")):
        pytest.skip(f"no wheelhouse at {WHEELHOUSE}: run make test, which fills it")
    held: dict[str, list] = {}
    for wheel in WHEELHOUSE.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        held.setdefault(name, []).append(version)
    wanted = runtime_requirements()
    assert "sqlcipher3-wheels" in {canonicalize_name(r.name) for r in wanted}  # the encrypted database
    missing = [str(r) for r in wanted if not any(v in r.specifier for v in held.get(canonicalize_name(r.name), []))]
    assert missing == [], f"not in the wheelhouse (run make install again): {missing}"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_install_fills_the_wheelhouse_again_when_pyproject_changes(tmp_path: Path) -> None:
    venv = tmp_path / "venv"  # make only says what it would do (-n)
    venv.mkdir()
    (venv / ".installed").touch()  # installed after pyproject last changed

    def would_run(*args: str) -> str:
        return subprocess.run(["make", "-n", *args, f"VENV={venv}", "install"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, check=True).stdout

    assert "--wheel-dir" not in would_run()
    said = would_run("-W", "pyproject.toml")  # as if pyproject had just changed
    assert f"--wheel-dir {venv}/wheelhouse -r {venv}/runtime-requirements.txt" in said
    assert said.index("runtime-requirements.txt") < said.index("--wheel-dir") < said.index(f"touch {venv}/.installed")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the built wheel installed; its ``bin`` folder."""
    if not (ROOT / ".git").exists() and not (ROOT / ".git").is_file():
        pytest.skip("not a git checkout: the tree to compare against is unknown")
    if not any(WHEELHOUSE.glob("*.whl")):
        pytest.skip(f"no wheelhouse at {WHEELHOUSE}: run make test, which fills it")
    root = tmp_path_factory.mktemp("package")
    dist = root / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheels = list(dist.glob("evidencekit-*-py3-none-any.whl"))
    assert [w.name for w in wheels] == [f"evidencekit-{__version__}-py3-none-any.whl"]
    assert (dist / f"evidencekit-{__version__}.tar.gz").is_file()
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    # pip of this interpreter installs into the new one (--python); nothing of the checkout is on its path
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                          "--no-index", "--find-links", str(WHEELHOUSE), str(wheels[0])],
                         capture_output=True, text=True, timeout=300,
                         env={**clean_env(venv / "bin", root), "PIP_FIND_LINKS": ""})
    assert pip.returncode == 0, pip.stderr[-3000:]
    return venv / "bin"


def clean_env(bin_dir: Path, home: Path) -> dict[str, str]:
    """This environment without anything pointing at the checkout (PYTHONPATH), with a worker's HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVIDENCEKIT_", "PYTHON", "XDG_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", HOME=str(home), EVIDENCEKIT_LANG="en",
               EVIDENCEKIT_PASSPHRASE=PASSPHRASE, EVIDENCEKIT_OTS_CALENDARS="", EVIDENCEKIT_TSA_URLS="")
    return env


def run(bin_dir: Path, cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``evidencekit`` as a worker starts it: by name, from PATH, in her own folder."""
    return subprocess.run(["evidencekit", *args], cwd=cwd, env=clean_env(bin_dir, home), capture_output=True,
                          text=True, timeout=300)


def test_the_installed_package_holds_every_data_file(installed: Path, tmp_path: Path) -> None:
    site = json.loads(subprocess.run([installed / "python", "-c", "import json, evidencekit, sys; "
                                      "print(json.dumps([evidencekit.__file__, sys.path]))"], cwd=tmp_path,
                                     env=clean_env(installed, tmp_path), capture_output=True, text=True,
                                     check=True).stdout)
    package = Path(site[0]).parent
    assert not package.is_relative_to(ROOT) and not any(Path(p).resolve() == ROOT for p in site[1] if p)
    for name, data in tracked_data_files().items():
        assert (package / name).is_file(), f"{name} is not in the installed package"
        assert (package / name).read_bytes() == data, f"{name} differs from the tree"


def test_installed_command_sets_up_checks_and_runs_the_demo(installed: Path, tmp_path: Path) -> None:
    try:
        find_browser()
    except BrowserNotFound as error:
        pytest.skip(f"no browser: {error.message('en')}")
    elsewhere, home = tmp_path / "somewhere", tmp_path / "worker"
    elsewhere.mkdir()
    home.mkdir()
    version = run(installed, elsewhere, home, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"evidencekit, version {__version__}"

    setup = run(installed, elsewhere, home, "setup", "--yes", "--json", "--kdf", "interactive")
    assert setup.returncode == 0, setup.stderr
    done = json.loads(setup.stdout)
    assert done["identity"]["created"] and done["changed"] and done["doctor"]["healthy"]
    assert Path(done["extension"]["zip"]).is_file() and Path(done["extension"]["zip"]).is_relative_to(home)

    doctor = run(installed, elsewhere, home, "doctor", "--json")
    assert doctor.returncode == 0, doctor.stdout
    checks = json.loads(doctor.stdout)["checks"]
    assert {c["status"] for c in checks} == {"ok"}, checks
    pieces = {c["piece"]: c for c in checks}
    assert pieces["extension"]["facts"]["id"] == install.EXTENSION_ID
    assert Path(pieces["extension"]["facts"]["path"]).is_relative_to(installed.parent)  # the installed copy
    assert "locker" in pieces and "keys" in pieces and "browser" in pieces
    database = Path(pieces["locker"]["facts"]["path"]) / "locker.db"
    assert not database.read_bytes().startswith(b"SQLite format 3\0")  # the installed SQLCipher encrypts it

    folder = Path(run(installed, elsewhere, home, "extension", "path").stdout.strip())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert install.extension_id(manifest["key"]) == install.EXTENSION_ID and manifest["version"] == __version__

    demo = run(installed, elsewhere, home, "demo", "--json")
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert json.loads(demo.stdout)["verification"]["verdict"] == "valid_with_warnings"  # no timestamp servers here
    assert (elsewhere / "evidencekit-demo" / "bundle.zip").is_file()
