# Two commands for everyone: `make lab` (the course) and `make test` (the checks); `make test-browser`
# checks the course in JupyterLab in a real browser (Debian's Chromium).
# Each creates .venv with Python >= 3.10 on first use and installs the course into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed
BROWSER_READY := $(VENV)/.installed-browser
ASSIGNMENTS := $(notdir $(wildcard solutions/*))

.PHONY: lab lab-instructor test test-browser bench notebooks grade clean

# JupyterLab refuses to run as root unless told to (containers, some JupyterHub images)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# Students: the notebooks, nbgrader's Validate button and assignment list; ./start hides nbgrader's
# instructor tools (jupyter-config/student), as on Binder.
lab: $(READY)
	PATH="$(CURDIR)/$(BIN):$$PATH" ./start $(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

# Instructors: the whole repository, with nbgrader's formgrader, course list and Create Assignment.
lab-instructor: $(READY)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab $(ROOT_FLAG)

test: $(READY)
	$(BIN)/python -m pytest

# Every notebook in JupyterLab in headless Chromium (browser_tests/).  Needs Debian's Chromium:
# apt-get install chromium fonts-noto-cjk.  Screenshots go to SCREENSHOTS=<folder>, by default a new
# temporary folder; the test prints it.  CHROMIUM=<path> uses another Chromium or Chrome.
test-browser: $(BROWSER_READY)
	$(BIN)/python -m pytest browser_tests

bench: $(READY)
	$(BIN)/python tools/bench.py

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
	@echo "Setting up $(VENV) with the course and its tools (JupyterLab, nbgrader, NumPy, ...): a few minutes, once."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing the course's packages into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --progress-bar off -e ".[dev]"
	@touch $(READY)
	@echo "Done: $(VENV) is ready."

$(BROWSER_READY): $(READY)
	$(BIN)/python -m pip install --quiet -e ".[dev,browser]"
	touch $(BROWSER_READY)

clean:
	rm -rf $(VENV) gradebook.db .pytest_cache
