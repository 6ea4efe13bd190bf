# Set-up and everyday commands. `make demo` and `make test` each install what they need first.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Wheels of the runtime dependencies, so the package test installs the built wheel into a fresh
# virtualenv without the network (tests reach only loopback).
WHEELHOUSE := $(VENV)/wheelhouse

.PHONY: install demo test bench system-tools

install: $(STAMP) system-tools

$(STAMP): pyproject.toml extension/package-lock.json
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet -e '.[test]'
	command -v npm >/dev/null && npm ci --prefix extension --no-audit --no-fund || echo "npm not found: the web-ext lint test will be skipped"
	$(PYTHON) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
	  > $(VENV)/runtime-requirements.txt
	$(PYTHON) -m pip wheel --quiet --wheel-dir $(WHEELHOUSE) -r $(VENV)/runtime-requirements.txt \
	  setuptools wheel
	touch $(STAMP)

system-tools:
	@bash tools/system-tools.sh

demo: install
	$(VENV)/bin/evidencekit demo

test: install
	$(PYTHON) -m pytest -q

bench: install
	@for script in bench/*.py; do $(PYTHON) $$script; done
