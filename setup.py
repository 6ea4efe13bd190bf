"""Build step: the browser extension travels inside the package.

The extension's sources live in ``extension/`` (where its own tools, web-ext and npm, expect
them); a wheel must carry them anyway, so ``build_py`` copies ``extension/src`` and the Firefox
manifest into ``evidencekit/data/extension/`` of the build. Git keeps one copy. Everything else
about the package is in ``pyproject.toml``.
"""

from pathlib import Path
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PARTS = {"src": ROOT / "extension" / "src", "firefox": ROOT / "extension" / "firefox"}


class build_py_with_extension(build_py):  # noqa: N801 - setuptools names commands this way
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads extension/ from the checkout itself
            return
        target = Path(self.build_lib) / "evidencekit" / "data" / "extension"
        for name, source in PARTS.items():
            if not (source / "manifest.json").is_file():
                raise SystemExit(f"extension/{name}/manifest.json is missing: the package needs the extension")
            if (target / name).exists():
                shutil.rmtree(target / name)
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".*", "node_modules"))


setup(cmdclass={"build_py": build_py_with_extension})
