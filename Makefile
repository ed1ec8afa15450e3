# grpo-derive: `make` sets up .venv and regenerates results/; `make test` runs the tests.
# Real file dependencies: a second `make` with nothing changed does no work.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CACHE  := .cache/computed.json

# Rendering-only sources: a change of layout re-renders without recomputing.
RENDER_SRC  := derive/render.py derive/cli.py $(wildcard templates/*.jinja)
COMPUTE_SRC := $(filter-out $(RENDER_SRC),$(wildcard derive/*.py))

.DELETE_ON_ERROR:
.PHONY: all test pdf clean bench

all: results/verification.json

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(CACHE): $(STAMP) $(COMPUTE_SRC)
	$(PY) -m derive compute --cache $@

results/verification.json: $(CACHE) $(RENDER_SRC)
	$(PY) -m derive render --cache $(CACHE) --out results
	@touch $@

test: all
	$(PY) -m pytest -q

pdf: results/verification.json
	@if command -v pdflatex >/dev/null 2>&1; then \
	  cd results && pdflatex -no-shell-escape -interaction=nonstopmode -halt-on-error main.tex >/dev/null \
	  && pdflatex -no-shell-escape -interaction=nonstopmode -halt-on-error main.tex >/dev/null \
	  && rm -f main.aux main.log main.out && echo "results/main.pdf written"; \
	else \
	  echo "pdflatex not found: install TeX Live with 'apt-get install -y --no-install-recommends texlive-latex-base texlive-latex-recommended texlive-pictures latexmk'"; \
	fi

bench: $(STAMP)
	$(PY) benchmarks/bench_stationary.py

clean:
	rm -rf $(VENV) .cache build .pytest_cache .hypothesis *.egg-info
	rm -f results/main.pdf results/*.aux results/*.log results/*.out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
