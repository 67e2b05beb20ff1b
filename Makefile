# Two commands for everyone: `make lab` (the course) and `make test` (the checks).
# Each creates .venv with Python >= 3.10 on first use and installs the course into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed
ASSIGNMENTS := $(notdir $(wildcard solutions/*))

.PHONY: lab test bench notebooks grade pretrained clean

# JupyterLab refuses to run as root unless told to (containers, some JupyterHub images)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(READY)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

test: $(READY)
	$(BIN)/python -m pytest

bench: $(READY)
	$(BIN)/python tools/bench.py

# Maintainers: retrain the pretrained character LSTM of notebook 06 (helpers/data/pretrained/char_lstm.npz and its
# .sha256; at most 15 minutes on 2 cores) with the course's own trainer; prints its figures and checksum.
pretrained: $(READY)
	$(BIN)/python -m helpers.pretrained

# Instructors: regenerate the student versions in notebooks/ from solutions/.
notebooks: $(READY)
	for a in $(ASSIGNMENTS); do PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment $$a --force || exit 1; done

# Instructors: grade a class.  make grade ASSIGNMENT=01_activations SUBMISSIONS=path/to/submissions
# (ASSIGNMENT=all grades every assignment; SUBMISSIONS: nbgrader's submitted/ tree, a folder of
# <student>.ipynb or <student>_<assignment>.ipynb files, or a zip of either).  Reports go to reports/.
grade: $(READY)
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade ASSIGNMENT=<name|all> SUBMISSIONS=<path>"; exit 2; }
	$(BIN)/python -m grader --assignment "$(ASSIGNMENT)" --submissions "$(SUBMISSIONS)" $(GRADE_OPTIONS)

$(READY): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(READY)

clean:
	rm -rf $(VENV) gradebook.db .pytest_cache
