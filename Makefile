# Two entry points: `make demo` and `make test`. Both build the virtual environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every install takes its versions from the lock, constraints.txt (scripts/refresh_lock.sh rewrites it).
LOCK := constraints.txt
# The stamp changes with pyproject.toml and the lock, so a changed dependency reinstalls.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha1sum | cut -c1-12)
SAMPLE := resources/samples/the-lamplighter-of-harrow-street.md
DEMO_OUT ?= demo-out

.PHONY: demo test test-quick lint venv lock clean

venv: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-cache-dir -c $(LOCK) pip
	$(BIN)/python -m pip install --quiet --no-cache-dir -c $(LOCK) -e '.[dev,styletts2]'
	$(BIN)/python -m pip check
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/audiobook-studio make $(SAMPLE) --out $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The whole suite, StyleTTS2 group included; the summary prints the time of each test group.
test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# Everything but the StyleTTS2 group (torch), for a quick loop while working.
test-quick: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "not styletts2"

lock:
	scripts/refresh_lock.sh

clean:
	rm -rf $(VENV) $(DEMO_OUT) build dist
