# `make run` and `make test` work on a fresh Debian/Ubuntu machine with Python 3.11:
# they create .venv, install everything, then open the explorer / run the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint system-deps bench soak clean

# Every package at the version in constraints.txt, the versions the tests passed with.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: a bare "torch" requirement may pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet -c constraints.txt torch
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,lint]"
	touch $(STAMP)

# Xvfb and the GL/xcb libraries Qt and VTK need, and Chromium for the web rater's tests (Playwright
# drives /usr/bin/chromium; its own browser download is never used). Debian package names; run as root or via sudo.
system-deps:
	@if ! command -v xvfb-run >/dev/null || ! ldconfig -p | grep -q libxcb-cursor || ! [ -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends \
			xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglu1-mesa libxkbcommon-x11-0 libxcb-cursor0 \
			libdbus-1-3 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
			libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libfontconfig1 \
			libxrender1 libxi6 libxkbcommon0 libsm6 libice6 libxext6 chromium >/dev/null; \
	fi

# Opens the explorer on the embedded model; without a display it runs on a virtual one.
run: system-deps $(STAMP)
	@if [ -n "$$DISPLAY" ] || [ -n "$$WAYLAND_DISPLAY" ]; then $(PY) main.py; else xvfb-run -a $(PY) main.py; fi

test: system-deps $(STAMP)
	@start=$$(date +%s); xvfb-run -a -s "-screen 0 1920x1080x24" $(PY) -m pytest; status=$$?; \
		echo "test suite: $$(( $$(date +%s) - start )) s"; exit $$status

# Lint and format check (ruff), types (mypy over app/ and widgets/) and the import layers (import-linter).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: system-deps $(STAMP)
	$(PY) bench/bench_core.py
	xvfb-run -a $(PY) bench/bench_gui.py

# The long version of tests/test_soak.py: 200,000 actions through one explorer window.
soak: system-deps $(STAMP)
	xvfb-run -a -s "-screen 0 1920x1080x24" $(PY) bench/bench_soak.py

clean:
	rm -rf $(VENV) .pytest_cache .import_linter_cache build dist *.egg-info
