# The few verbs a newcomer needs. `make run` serves the demo; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO_ENV := WAYSTATION_DEMO=true
PORT ?= 8000

.PHONY: run test lint bench messages clean install

install: $(STAMP)


$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: install python3.11 (and python3.11-venv)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEMO_ENV) $(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run.py

# Extract translatable strings (needs GNU gettext) and compile catalogs (pure Python).
messages: $(STAMP)
	cd waystation && $(DEMO_ENV) ../$(BIN)/python ../manage.py makemessages -l en -l es -l fr -l ar -l fa -l ru -l pt -l tr -l sw -l uk --no-obsolete --no-location --ignore='*/tests/*'
	$(BIN)/python -m waystation.lib.catalogs compile

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
