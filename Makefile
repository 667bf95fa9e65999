# SlicerMultiTaskQMRI: `make demo` and `make test` work on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench clean dicom3tools models evaluate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the CPU wheel: anything that asks for torch later finds it satisfied.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP) dicom3tools

# dciodvfy (Debian package dicom3tools) validates the DICOM exports in the tests. Installed
# with apt-get when missing (CI runs as root); without it those checks skip with a reason.
dicom3tools:
	@command -v dciodvfy >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dicom3tools >/dev/null; } || \
	  echo "warning: dicom3tools (dciodvfy) could not be installed; DICOM validation tests will skip"

demo: install
	$(BIN)/qmri demo --out qmri-demo --overwrite

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/fit_speed.py
	$(BIN)/python benchmarks/network_speed.py

# The shipped network weights (QMRIMapping/Resources/Models/<name>.pt + .json model card),
# each retrained from its committed config on the phantom cohort.
MODELS := homou baseline heteu
models: install
	for m in $(MODELS); do \
	  rm -rf build/models/$$m; \
	  $(BIN)/qmri train --config QMRIMapping/Resources/Models/$$m.yaml --out build/models/$$m \
	    --export QMRIMapping/Resources/Models --quiet || exit 1; \
	done

# docs/network_results.md: trains the comparison networks the shipped ones do not cover
# (cached in build/evaluation/models) and writes tables and figures to build/evaluation.
evaluate: install
	$(BIN)/qmri evaluate --config benchmarks/network_evaluation.yaml

clean:
	rm -rf $(VENV) qmri-demo .pytest_cache .ruff_cache
