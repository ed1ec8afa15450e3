# grpo-derive: `make` sets up .venv and regenerates results/; `make test` runs the tests.
# Real file dependencies: a second `make` with nothing changed does no work.
#
# Each part of the results (one module of derive.output.parts.RESULT_MODULES) is computed
# by its own process into its own cache, .cache/parts/NAME.json, beside NAME.d: the
# rules that make it depend on exactly the sources it imported (written by the part
# itself, as a compiler writes a .d file).  A change to one module recomputes only the
# parts that import it; the parts run in parallel (JOBS of them, default: the number of
# cores; `make -jN` overrides it), then are merged into $(CACHE), which is rendered.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CACHE  := .cache/computed.json
PART_DIR := .cache/parts
OUT    := results
# "$(OUT)/ is up to date" lives outside $(OUT)/, so that .DELETE_ON_ERROR and an
# interrupt can never delete a file inside it: the render swaps $(OUT)/ in whole,
# so SIGINT, SIGTERM or SIGKILL at any moment leave it exactly old or exactly new.
RESULTS := .cache/results.stamp
PDF_DIR := .cache/pdf
PDFLATEX ?= pdflatex

ifeq ($(origin JOBS),undefined)
JOBS := $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
endif
MAKEFLAGS += -j$(JOBS) --output-sync=target

# The parts, read from RESULT_MODULES in derive/output/parts.py (the last name of each
# module), started slowest first so that the parallel jobs end together.
PARTS := $(shell sed -n '/^RESULT_MODULES = (/,/^)/s/^ *"[a-z_.]*\.\([a-z_]*\)",.*/\1/p' \
                 derive/output/parts.py)
ifeq ($(PARTS),)
$(error no RESULT_MODULES found in derive/output/parts.py)
endif
SLOW_PARTS := stability variants maximiser_table large_group finite_groups figures baselines tables
PART_CACHES := $(addprefix $(PART_DIR)/,$(addsuffix .json,\
                 $(filter $(PARTS),$(SLOW_PARTS)) $(filter-out $(SLOW_PARTS),$(PARTS))))

# What the render imports and reads: a change of layout re-renders without recomputing.
RENDER_SRC  := $(wildcard derive/*.py derive/*/__init__.py derive/output/*.py \
                 derive/verify/checks.py derive/numerics/precision.py derive/model/presets.py \
                 derive/model/estimators.py derive/model/normalisations.py derive/paper/latex.py \
                 templates/*.jinja)

# The studies: studies/NAME.toml -> $(OUT)/studies/NAME/ (grpo-derive study).  The render
# swaps $(OUT)/ in whole, so a study is written after it (from its per-point cache in
# .cache/studies/NAME/, without solving again when only the render changed).
STUDIES      := $(wildcard studies/*.toml)
STUDY_STAMPS := $(STUDIES:studies/%.toml=.cache/studies/%.stamp)
STUDY_SRC    := $(wildcard derive/*.py derive/*/*.py templates/study_*.tex.jinja)

.DELETE_ON_ERROR:
.PHONY: all test pdf clean bench lint FORCE

all: $(RESULTS) $(STUDY_STAMPS)

# The cluster extra (dask.distributed) is installed so that `study --scheduler` is tested.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test,cluster]'
	touch $@

# A part's own dependencies come from its .d file (none before its first run).
$(PART_DIR)/%.json: $(STAMP)
	$(PY) -m derive.output.parts part $* --cache $@ --deps $(PART_DIR)/$*.d

-include $(wildcard $(PART_DIR)/*.d)

$(CACHE): $(PART_CACHES)
	$(PY) -m derive.output.parts merge --cache $@ $(PART_CACHES)

$(RESULTS): $(CACHE) $(RENDER_SRC)
	$(PY) -m derive render --cache $(CACHE) --out $(OUT)
	@touch $@

# $(OUT)/ missing, or not an output of grpo-derive (no marker): render it again
# (the render refuses a folder that holds anything else).
ifeq ($(wildcard $(OUT)/.grpo-derive),)
$(RESULTS): FORCE
endif

.cache/studies/%.stamp: studies/%.toml $(STUDY_SRC) $(RESULTS)
	@mkdir -p $(@D)
	$(PY) -m derive study $< --out $(OUT)/studies/$* --jobs 1
	@touch $@

# a study's folder missing or not an output of grpo-derive: write it again
$(foreach s,$(STUDIES:studies/%.toml=%),$(if $(wildcard $(OUT)/studies/$(s)/.grpo-derive),,$(eval .cache/studies/$(s).stamp: FORCE)))

# The tests run in $(JOBS) pytest processes at once, each taking the next test that no
# other has taken from a shared queue (tests/conftest.py, --queue); each prints its own
# summary.  They read the part caches that `all` has just made instead of computing them.
TEST_QUEUE   := .cache/test-queue
TEST_WORKERS := $(addprefix test-worker-,$(shell seq 1 $(JOBS)))
.PHONY: test-queue $(TEST_WORKERS)

test: $(TEST_WORKERS)

test-queue: all
	@mkdir -p $(dir $(TEST_QUEUE)) && : > $(TEST_QUEUE)

$(TEST_WORKERS): test-queue
	$(PY) -m pytest -q -o console_output_style=classic --queue=$(abspath $(TEST_QUEUE))

# Compiles $(OUT)/main.tex in $(PDF_DIR)/ (aux and log stay out of $(OUT)/); on a
# failure, prints pdflatex's log from its first error and exits non-zero.
pdf: $(RESULTS)
	@command -v $(PDFLATEX) >/dev/null 2>&1 || { \
	  echo "make pdf: $(PDFLATEX) not found; install TeX Live, e.g. 'apt-get install -y --no-install-recommends texlive-latex-base texlive-latex-recommended texlive-pictures'" >&2; \
	  exit 1; }
	@mkdir -p $(PDF_DIR)
	@cd $(OUT) && for pass in 1 2; do \
	  $(PDFLATEX) -no-shell-escape -interaction=nonstopmode -halt-on-error \
	    -output-directory="$(abspath $(PDF_DIR))" main.tex >"$(abspath $(PDF_DIR))/pdflatex.out" 2>&1 || { \
	    log="$(abspath $(PDF_DIR))/main.log"; [ -s "$$log" ] || log="$(abspath $(PDF_DIR))/pdflatex.out"; \
	    echo "make pdf: $(PDFLATEX) failed on $(OUT)/main.tex (pass $$pass); from $$log:" >&2; \
	    if grep -q '^! ' "$$log"; then sed -n '/^! /,$$p' "$$log" | head -n 25 >&2; \
	    else tail -n 25 "$$log" >&2; fi; \
	    exit 1; }; \
	done
	@cp $(PDF_DIR)/main.pdf $(OUT)/main.pdf && echo "$(OUT)/main.pdf written"

bench: $(STAMP)
	$(PY) benchmarks/bench_stationary.py

# The house's linter (ruff: pyflakes, syntax errors, sorted imports; pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'ruff==0.17.6'
	$(VENV)/bin/ruff check derive tests benchmarks

clean:
	rm -rf $(VENV) .cache build .pytest_cache .hypothesis *.egg-info
	rm -f $(OUT)/main.pdf $(OUT)/*.aux $(OUT)/*.log $(OUT)/*.out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
