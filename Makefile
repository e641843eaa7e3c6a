# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv (if missing) and installs the pinned requirements.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PY := $(BIN)/python
RUNS ?= runs
# Lyra v2's model files, when a shared folder beside the checkout holds them
# (otherwise `codecbench codecs fetch lyra_v2_6k` puts them in the cache)
LYRA_SHARED := $(abspath $(wildcard ../shared/models/lyra_v2))
ifneq ($(LYRA_SHARED),)
export CODECBENCH_LYRA_DIR ?= $(LYRA_SHARED)
endif

.PHONY: demo test venv ray lab lint bench clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and alone: the exact CPU pin keeps pip from pulling a CUDA build
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -r requirements.txt
	# resemblyzer's own metadata asks for webrtcvad (a source build); webrtcvad-wheels provides it
	$(BIN)/pip install --no-deps resemblyzer==0.1.4
	$(BIN)/pip install --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m codecbench_utils.demo --out $(RUNS) --figures figures

$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(BIN)/pip install -r requirements-test.txt
	# SpeechTokenizer's metadata asks for torchaudio (built for another torch); inference needs none of it
	$(BIN)/pip install --no-deps speechtokenizer==1.0.1
	touch $(TEST_STAMP)

test: $(TEST_STAMP)
	$(PY) -m pytest -q -n 2 tests

ray: $(STAMP)
	$(BIN)/pip install ray==2.60.0

# JupyterLab on the notebooks (installed on first use; not needed by `make demo` or `make test`)
lab: $(STAMP)
	$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/pip install "jupyterlab>=4,<5"
	$(BIN)/jupyter lab notebooks/

lint: $(TEST_STAMP)
	$(BIN)/ruff check codecbench_utils tests


bench: $(STAMP)
	$(PY) benchmarks/bench_metrics.py

clean:
	rm -rf $(RUNS)
