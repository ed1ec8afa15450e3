# grpo-derive: `make` sets up .venv and regenerates results/; `make test` runs the tests.
# Real file dependencies: a second `make` with nothing changed does no work.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CACHE  := .cache/computed.json
OUT    := results
# "$(OUT)/ is up to date" lives outside $(OUT)/, so that .DELETE_ON_ERROR and an
# interrupt can never delete a file inside it: the render swaps $(OUT)/ in whole,
# so SIGINT, SIGTERM or SIGKILL at any moment leave it exactly old or exactly new.
RESULTS := .cache/results.stamp
PDF_DIR := .cache/pdf
PDFLATEX ?= pdflatex

# Rendering-only sources: a change of layout re-renders without recomputing.
RENDER_SRC  := derive/render.py derive/cli.py derive/outputs.py $(wildcard templates/*.jinja)
COMPUTE_SRC := $(filter-out $(RENDER_SRC),$(wildcard derive/*.py))

.DELETE_ON_ERROR:
.PHONY: all test pdf clean bench FORCE

all: $(RESULTS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(CACHE): $(STAMP) $(COMPUTE_SRC)
	$(PY) -m derive compute --cache $@

$(RESULTS): $(CACHE) $(RENDER_SRC)
	$(PY) -m derive render --cache $(CACHE) --out $(OUT)
	@touch $@

# $(OUT)/ missing, or not an output of grpo-derive (no marker): render it again
# (the render refuses a folder that holds anything else).
ifeq ($(wildcard $(OUT)/.grpo-derive),)
$(RESULTS): FORCE
endif

test: all
	$(PY) -m pytest -q

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

clean:
	rm -rf $(VENV) .cache build .pytest_cache .hypothesis *.egg-info
	rm -f $(OUT)/main.pdf $(OUT)/*.aux $(OUT)/*.log $(OUT)/*.out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
