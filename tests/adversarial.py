"""The adversarial submissions of 01_activations, each with the grade it must get.

``CORPUS`` maps a student id to ``(build, status, score, detail)``:
``build(solved, blank, places)`` returns the submission (a notebook, or raw
bytes for a file that is not one); ``score`` is None when grading must fail;
``detail`` is a regular expression the detail column must match.  ``places``
holds the paths a submission tries to reach (its test writes them into the code):
``outside``, ``solution`` and the ``gradebook`` the grades are recorded in.

``FILES`` holds the cases that are more than one ``<student>.ipynb``: nbgrader's
``<student>/01_activations/`` folders with files handed in beside the notebook or
several candidate notebooks, and names as browsers and operating systems write them
(``dan.ipynb.json``, a decomposed ``José``); each maps the student id to ``({path:
build}, status, score, detail)``, the paths relative to the submissions folder (a
build may return ``Link(target)``, a symbolic link).  ``ZIPPED`` holds names as zip
archivers write them (``{member name bytes: (utf-8 flag, Unicode path field)}``).

Expected scores are derived from the points of the exercises (helpers/checks/exercises.py): a wrong
relu scores ``FULL - POINTS["relu"]``.
"""
from __future__ import annotations

import copy
import json

import nbformat

from helpers.checks import EXERCISES
from mistakes import MISTAKES

POINTS = {name: e.points for name, e in EXERCISES["01_activations"].items()}
FULL = sum(POINTS.values())


def answer(nb, gid: str, source: str):
    """``nb`` with the source of the cell ``gid`` (an answer, or a test cell) replaced by ``source``."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == gid:
            cell.source = source
            return nb
    raise KeyError(gid)


def after(nb, gid: str | None, source: str, **nbgrader):
    """``nb`` with a new code cell after the cell ``gid`` (None: at the end)."""
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    at = len(nb.cells) if gid is None else next(
        k + 1 for k, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    nb.cells.insert(at, cell)
    return nb


def without(nb, gid: str):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != gid]
    return nb


def duplicated(nb, gid: str):
    nb = copy.deepcopy(nb)
    k = next(k for k, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    twin = copy.deepcopy(nb.cells[k])
    twin.id = twin.id + "-copy"
    nb.cells.insert(k + 1, twin)
    return nb


WRONG_RELU = "def relu(z):\n    return z\n"
GRAD_GID, GRAD_SOURCE, _ = MISTAKES["01_activations"]["relu_grad_one_at_zero"]
HIDDEN_GID, HIDDEN_SOURCE, _ = MISTAKES["01_activations"]["softmax_global_max"]  # only the hidden tests see it
FAKE_CHECKS = "".join(f"def check_{n}(*args, **kwargs):\n    print('✓ {n}')\n" for n in (
    "sigmoid", "sigmoid_grad", "tanh_grad", "relu", "relu_grad", "softmax", "collapse_linear", "fit_affine"))
PIPE_FORGERY = ("import os, stat\nfor fd in range(3, 256):\n    try:\n"
                "        if stat.S_ISFIFO(os.fstat(fd).st_mode):\n"
                "            os.write(fd, b'0' * 64 + b' {\"end\": true}\\n')\n"
                "    except OSError:\n        pass\n")


def relu_as(source: str):
    """A builder: the solved notebook with ``source`` as the relu answer cell."""
    return lambda s, b, p: answer(s, "relu", source)


def wrong_relu_and(code: str, where: str = "setup"):
    """A builder: the solved notebook with a wrong relu (it loses POINTS["relu"]), and ``code`` after ``where``."""
    return lambda s, b, p: after(answer(s, "relu", WRONG_RELU), where, code)


def setup_last(nb):
    """``nb`` with the course's setup cell moved to the end."""
    nb = copy.deepcopy(nb)
    setup = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"]
    nb.cells = [c for c in nb.cells if c not in setup] + setup
    return nb


def malformed(solved, blank, places) -> bytes:
    data = json.loads(nbformat.writes(solved))
    data["cells"][1]["metadata"]["nbgrader"]["grade_id"] = ["setup"]
    return json.dumps(data).encode()


def _corrupt(solved, blank, places) -> bytes:
    return nbformat.writes(solved).encode()[:5000]


def _nbformat3(solved, blank, places) -> bytes:
    data = json.loads(nbformat.writes(solved))
    data["nbformat"], data["nbformat_minor"] = 3, 0
    return json.dumps(data).encode()


#: the submissions that run into the per-cell time limit: graded in a run of their own with a shorter limit
#: (still many times what an honest cell of 01 needs), so that the others get a generous one
TIME_LIMIT_CASES = ("loop_inside_exercise", "loop_after_exercises", "loop_ignoring_the_limit",
                    "stopped_inside_the_watch", "slow_after_the_tests", "slow_before_a_test")
NOTEBOOK_LIMIT = 60  # seconds per notebook in that run: the slow_* cases reach it with cells stopped at 10 s each
ORDER = list(POINTS)  # the exercises in notebook order


def points_up_to(exercise: str) -> float:
    return sum(POINTS[e] for e in ORDER[:ORDER.index(exercise) + 1])


def source_of(nb, gid: str) -> str:
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def loops_after(gid: str, n: int):
    """A builder: the solved notebook with ``n`` cells that loop forever after the cell ``gid``."""
    def build(s, b, p):
        for _ in range(n):
            s = after(s, gid, "while True:\n    pass\n")
        return s
    return build


def answers_in_one_cell(s, b, p):
    """Every answer cell deleted, the eight functions written in one cell after the setup cell."""
    answers = [c for c in s.cells if c.metadata.get("nbgrader", {}).get("solution")]
    kept = copy.deepcopy(s)
    kept.cells = [c for c in kept.cells if c not in answers]
    return after(kept, "setup", "\n\n".join(c.source for c in answers))


def relu_moved(s, b, p, where: str = "test_relu", keep_test: bool = True):
    """relu's answer cell deleted (and its test cell, unless keep_test), relu defined after ``where``."""
    nb = without(s, "relu") if keep_test else without(without(s, "relu"), "test_relu")
    return after(nb, where, source_of(s, "relu"))


PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def with_markdown(source: str, attachments=None):
    """A builder: the solved notebook with a Markdown cell (with ``attachments``) after the setup cell."""
    def build(s, b, p):
        nb = copy.deepcopy(s)
        cell = nbformat.v4.new_markdown_cell(source)
        if attachments is not None:
            cell["attachments"] = attachments
        at = next(k + 1 for k, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
        nb.cells.insert(at, cell)
        return json.dumps(_as_json(nb)).encode()  # (as written: nbformat would refuse a malformed attachment)
    return build


def _as_json(nb) -> dict:
    return json.loads(json.dumps(nb))


#: an output nbconvert cannot render (metadata of an image that is not a dict): the plain page is the fallback for
#: whatever a student's outputs hold that the full page cannot show
ODD_DISPLAY = f"display({{'image/png': '{PIXEL}'}}, raw=True, metadata={{'image/png': 'wide'}})\n"

CORPUS = {
    # repairing a notebook never destroys the student's answer (issue 13)
    "answers_in_one_cell": (answers_in_one_cell, "graded", FULL,
                            r"^the answer cells of sigmoid, sigmoid_grad, .*, fit_affine were missing and not put "
                            r"back: "
                            r"the notebook's own definitions were graded$"),
    "answer_defined_after_its_test": (relu_moved, "graded", FULL - POINTS["relu"],
                                      r"^the answer cell of relu was missing and not put back"),
    "answer_and_test_deleted": (lambda s, b, p: relu_moved(s, b, p, "setup", keep_test=False), "graded", FULL,
                                r"^test cell 'test_relu' was missing and was put back from the release; the answer "
                                r"cell of relu was missing and not put back"),
    # common notebook habits are not tampering
    "pip_install_in_an_answer": (relu_as("%pip install -q numpy\n" + "def relu(z):\n    return np.maximum(z, 0.0)\n"),
                                 "graded", FULL, r"^not run while grading \(no shell commands or installs\): "
                                                 r"`%pip install -q numpy` in the answer to relu$"),
    "shell_escape_in_an_answer": (
        lambda s, b, p: answer(s, "sigmoid", "!pip install numpy\n" + source_of(s, "sigmoid")), "graded", FULL,
        r"^not run while grading \(no shell commands or installs\): `!pip install numpy` in the answer to sigmoid$"),
    "shell_lines_and_cells": (
        lambda s, b, p: after(after(s, "setup", "%%bash\necho hi\n"), "setup",
                              "%conda install -y numpy\n!ls -la\nfiles = !ls\n%ls\n%mamba install numpy\n"),
        "graded", FULL, r"^not run while grading \(no shell commands or installs\): `%conda install -y numpy`, "
                        r"`!ls -la`, `!!ls`, `!ls -F`, `%mamba install numpy` in cell \d+ \(before the first "
                        r"exercise\); `%%bash \(cell\)` in cell \d+ \(before the first exercise\)$"),
    "profiled_with_prun": (
        lambda s, b, p: after(after(s, None, "%%prun -q\ntotal = sigmoid(np.zeros(3)).sum()\n"), None,
                              "%prun -s cumulative sigmoid(np.zeros(3))\nprint(total)\n"),
        "graded", FULL, r"^run without the profiler while grading: `%%prun -q` in cell \d+ \(after exercise "
                        r"fit_affine\); `%prun -s cumulative sigmoid\(np.zeros\(3\)\)` in cell \d+"),
    "help_and_docs": (lambda s, b, p: after(s, None, "sigmoid?\nhelp(np.exp)\n%pdoc sigmoid\n"), "graded", FULL,
                      r"^$"),
    "saved_with_a_bom": (lambda s, b, p: b"\xef\xbb\xbf" + nbformat.writes(s).encode(), "graded", FULL, r"^$"),
    # feedback is never blank
    "pasted_image": (with_markdown("![pasted](attachment:image.png)", {"image.png": {"image/png": PIXEL}}),
                     "graded", FULL, r"^$"),
    "image_from_another_notebook": (with_markdown("![pasted](attachment:lost.png)"), "graded", FULL, r"^$"),
    "malformed_attachment": (with_markdown("![pasted](attachment:image.png)", {"image.png": "junk"}), "graded",
                             FULL, r"^a malformed image attachment of a Markdown cell was dropped$"),
    "unrenderable_output": (lambda s, b, p: after(s, None, ODD_DISPLAY), "graded", FULL,
                              r"^the feedback page could not be rendered \(.+\); a plain page with the scores and "
                              r"messages was written instead$"),
    "hidden_test_mistake": (lambda s, b, p: answer(s, HIDDEN_GID, HIDDEN_SOURCE), "graded", FULL - POINTS[HIDDEN_GID], r"^$"),
    "patched_inside_the_check": (
        relu_as("import helpers.checks.framework as F\n_real = F.compare\n\n"
                                          "def _agree(*args, **kwargs):\n    F.compare = _real\n    return None\n\n"
                                          "def relu(z):\n    F.compare = _agree\n    return z\n"),
        "needs_review", FULL - POINTS["relu"], r"tampering: helpers.checks.framework.compare was replaced"),
    "report_forged_via_json": (
        lambda s, b, p: after(b, "setup", "import json\n_dumps = json.dumps\n\ndef _forge(m, *a, **k):\n"
                                          "    if isinstance(m, dict) and 'cell' in m:\n"
                                          "        m = {**m, 'error': None, 'outputs': []}\n"
                                          "    return _dumps(m, *a, **k)\n\njson.dumps = _forge\n"),
        "needs_review", 0, r"tampering: json.dumps was replaced"),
    "report_forged_in_the_pipe": (lambda s, b, p: after(b, None, PIPE_FORGERY), "failed", None,
                                  r"not written by the grader"),
    "walks_the_stack": (
        relu_as("import sys\n\ndef relu(z):\n    frame = sys._getframe(1)\n"
                                          "    return np.maximum(z, 0.0)\n"),
        "needs_review", FULL, r"tampering: inspected the grader's stack frames \(sys._getframe\)"),
    "setup_moved_to_the_end": (lambda s, b, p: setup_last(after(b, "setup", FAKE_CHECKS)), "needs_review", 0,
                               r"test cell test_sigmoid came before the course's setup cell"),
    "forks": (lambda s, b, p: after(s, None, "import os\ntry:\n    os.fork()\nexcept OSError as err:\n"
                                            "    print(err)\n"),
              "needs_review", FULL, r"tampering: started a process \(os.fork\)"),
    "malformed_metadata": (malformed, "failed", None, r"cell 1 of the notebook is malformed"),
    "hidden_marker_in_an_answer": (relu_as("def relu(z):\n    # ### BEGIN HIDDEN TESTS\n"
                                                                     "    return np.maximum(z, 0.0)\n"),
                                   "graded", FULL, r"^$"),
    "honest_numpy_error_state": (lambda s, b, p: after(s, "setup", "np.seterr(all='raise')"), "graded", FULL, r"^$"),
    "honest_lazy_numpy_module": (lambda s, b, p: after(s, None, "print(np.char.upper(['a']))"), "graded", FULL,
                                 r"^$"),
    "lone_surrogate_printed": (lambda s, b, p: after(s, None, "print('\\ud800')"), "graded", FULL, r"^$"),
    "prints_hidden_inputs": (  # (the experiments train with this relu, once it passes: their output is cut)
        relu_as("def relu(z):\n    print('INPUT', z)\n    return np.maximum(z, 0.0)\n"),
        "graded", FULL, r"^(the output of cell \d+ \(after exercise \w+\) was cut at the size limit(; |$))*$"),
    "code_compiled_as_a_library": (
        wrong_relu_and("import os, helpers.checks\n_src = 'def swap(f, g):\\n    f.__code__ = g.__code__\\n'\n"
                       "_ns = {}\nexec(compile(_src, os.path.join(os.path.dirname(helpers.checks.__file__), "
                       "'mine.py'), 'exec'), _ns)\n"),
        "needs_review", FULL - POINTS["relu"], r"tampering: compiled code under the file name .*mine.py, which belongs to a library"),
    "frames_from_exec_code": (
        lambda s, b, p: after(s, None, "_ns = {}\nexec(compile('import sys\\ndef peek():\\n    return "
                                       "sys._getframe(0)\\n', 'util.py', 'exec'), _ns)\n_ns['peek']()\n"),
        "needs_review", FULL, r"tampering: inspected the grader's stack frames"),
    "delegates_through_a_tool": (
        lambda s, b, p: answer(s, "sigmoid", "from helpers import classifier\n\ndef sigmoid(z):\n"
                                             "    z = np.asarray(z, dtype=float)\n    flat = z.reshape(1, -1)\n"
                                             "    n = flat.shape[1]\n"
                                             "    params = {'E': flat.copy(), 'W': np.ones((1, 1)), "
                                             "'b': np.zeros((1, 1)), 'u': np.ones((1, 1))}\n"
                                             "    p = classifier.predict_proba(params, np.arange(n).reshape(1, n), "
                                             "np.ones((1, n)), activation='identity')\n"
                                             "    return p.reshape(z.shape)\n"),
        "needs_review", FULL - POINTS["sigmoid"], r"test_sigmoid: sigmoid calls helpers.activations.sigmoid"),
    "namedtuple_and_logging": (lambda s, b, p: after(s, None, "import collections, logging\n"
                                                              "P = collections.namedtuple('P', 'x y')\n"
                                                              "logging.getLogger('me').warning('hi %s', P(1, 2))\n"),
                               "graded", FULL, r"^$"),
    "numpy_code_swapped_from_frozen_code": (
        wrong_relu_and("_src = 'def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):\\n"
                       "    import numpy\\n    return numpy.ones(numpy.broadcast(a, b).shape, bool)\\n'\n"
                       "_ns = {}\nexec(compile(_src, '<frozen mine>', 'exec'), _ns)\n"
                       "np.isclose._implementation.__code__ = _ns['isclose'].__code__\n"),
        "needs_review", FULL - POINTS["relu"], r"tampering: compiled code under the file name <frozen mine>"),
    "patch_from_an_imported_module": (
        wrong_relu_and("open('patch.py', 'w').write('import numpy as np\\n'\n"
                       "    'def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):\\n'\n"
                       "    '    return np.ones(np.broadcast(a, b).shape, bool)\\n'\n"
                       "    'np.isclose._implementation.__code__ = isclose.__code__\\n')\nimport patch\n"),
        "needs_review", FULL - POINTS["relu"], r"tampering: set __code__ of a function of numpy"),
    "switches_the_watch_off": (
        relu_as("import sys\n\nclass _P(str):\n    def startswith(self, *a):\n"
                                          "        sys.setprofile(None)\n        return str.startswith(self, *a)\n\n"
                                          "def relu(z):\n    try:\n        open(_P('nope.txt'))\n"
                                          "    except OSError:\n        pass\n    return activations.relu(z)\n"),
        "needs_review", FULL - POINTS["relu"], r"test_relu: relu calls"),
    "honest_own_module": (
        relu_as("open('mine.py', 'w').write('import numpy as np\\ndef relu(z):\\n"
                                          "    return np.maximum(z, 0.0)\\n')\nimport mine\n\n"
                                          "def relu(z):\n    return mine.relu(z)\n"),
        "graded", FULL, r"^$"),
    "odd_display_data": (lambda s, b, p: after(s, None, "display({'text/markdown': ['# a', {'b': 1}]}, raw=True)"),
                         "graded", FULL, r"^$"),
    "correct": (lambda s, b, p: s, "graded", FULL, r"^$"),
    "blank": (lambda s, b, p: b, "graded", 0, r"^$"),
    "wrong_answer": (lambda s, b, p: answer(s, GRAD_GID, GRAD_SOURCE), "graded", FULL - POINTS[GRAD_GID], r"^$"),
    "error_in_answer_cell": (
        lambda s, b, p: answer(s, "sigmoid", "import numpy_that_does_not_exist\n\n"
                                             "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"),
        "graded", FULL - POINTS["sigmoid"], r"^$"),
    "error_at_import": (lambda s, b, p: after(s, "setup", "raise RuntimeError('my notebook is broken')"),
                        "graded", FULL, r"^$"),
    "loop_inside_exercise": (relu_as("def relu(z):\n    while True:\n        pass\n"),
                             "needs_review", FULL - POINTS["relu"],
                             r"^the test of relu \(test_relu\) was stopped at its 10 s time limit: an endless loop in "
                             r"relu, or a slow machine\?"),
    "loop_after_exercises": (lambda s, b, p: after(s, None, "while True:\n    pass\n"),
                             "graded", FULL, r"^cell \d+ \(after exercise fit_affine\) was stopped at its 10 s time "
                                             r"limit$"),
    "loop_ignoring_the_limit": (
        lambda s, b, p: after(s, "test_fit_affine", "while True:\n    try:\n        while True:\n            pass\n"
                                                  "    except BaseException:\n        pass\n"),
        "graded", FULL, r"^cell \d+ \(after exercise fit_affine\) ignored its 10 s time limit and was stopped; "
                        r"the notebook was run again without it$"),
    "stopped_inside_the_watch": (  # the limit strikes while the check's delegation watch runs: no accusation
        relu_as("def _step(x):\n    return x\n\ndef relu(z):\n    while True:\n        _step(z)\n"),
        "needs_review", FULL - POINTS["relu"],
        r"^the test of relu \(test_relu\) was stopped at its 10 s time limit: an endless loop in relu, or a slow "
        r"machine\?$"),
    # a limit reached after the tests keeps the grade (NOTEBOOK_LIMIT; each loop is stopped after 10 s)
    "slow_after_the_tests": (loops_after("test_fit_affine", 8), "graded", FULL,
                             rf"the notebook was stopped at its limit of {NOTEBOOK_LIMIT} s per notebook, in cell \d+ "
                             r"\(after exercise fit_affine\), after its last graded cell: every test had run$"),
    "slow_before_a_test": (loops_after("test_relu", 8), "needs_review", points_up_to("relu"),
                           rf"the notebook was stopped at its limit of {NOTEBOOK_LIMIT} s per notebook, in cell \d+ "
                           rf"\(after exercise relu\): the tests of {', '.join(ORDER[ORDER.index('relu') + 1:])} did "
                           r"not run and scored 0; cell \d+ \(after exercise relu\) was stopped at its 10 s time "
                           r"limit"),
    "deleted_test_cell": (lambda s, b, p: without(s, "test_relu"), "graded", FULL,
                          r"test cell 'test_relu' was missing and was put back"),
    "edited_test_cell": (lambda s, b, p: answer(answer(s, "relu", WRONG_RELU), "test_relu", "pass"),
                         "graded", FULL - POINTS["relu"], r"test cell 'test_relu' was edited; the release version was graded"),
    "copied_test_cell": (lambda s, b, p: duplicated(s, "test_sigmoid"), "graded", FULL,
                         r"grade_id 'test_sigmoid' appears 2 times"),
    "fake_grade_cell": (lambda s, b, p: after(b, None, "print('100 free points')", grade=True, solution=False,
                                              locked=True, grade_id="bonus", points=100),
                        "needs_review", 0, r"graded cell 'bonus' \(100 points\) is not in the release"),
    "corrupt_json": (_corrupt, "failed", None, r"not valid JSON \(line \d+, column \d+"),
    "nbformat_3": (_nbformat3, "failed", None, r"nbformat 3; expected 4"),
    "os_exit": (lambda s, b, p: after(s, "setup", "import os\nos._exit(3)"), "needs_review", FULL,
                r"^process died: cell \d+ \(before the first exercise\): the process running the notebook exited with "
                r"code 3 in this cell; the notebook was run again without it$"),
    "huge_allocation": (lambda s, b, p: after(s, None, "hoard = [np.ones(10**8) for _ in range(1000)]"),
                        "graded", FULL, r"^$"),
    "huge_output": (lambda s, b, p: after(s, None, "print('x' * 50_000_000)"), "graded", FULL,
                    r"^the output of cell \d+ \(after exercise fit_affine\) was cut at the size limit$"),
    "writes_outside": (
        lambda s, b, p: after(s, None, "for path in %r:\n    try:\n        open(path, 'w').write('pwned')\n"
                                       "    except OSError as err:\n        print(err)\n" % (p["outside"],)),
        "needs_review", FULL, r"tampering: tried to write .*outside"),
    "reads_solutions": (
        lambda s, b, p: after(s, None, "try:\n    print(open(%r).read()[:100])\nexcept OSError as err:\n"
                                       "    print(err)\n" % p["solution"]),
        "needs_review", FULL, r"tampering: opened .*01_activations.ipynb, inside a folder hidden"),
    "reads_the_gradebook": (
        lambda s, b, p: after(s, None, "try:\n    print(open(%r, 'rb').read()[:100])\nexcept OSError as err:\n"
                                       "    print(err)\n" % p["gradebook"]),
        "needs_review", FULL, r"tampering: opened .*gradebook.db, inside a folder hidden"),
    "numpy_monkeypatch": (
        wrong_relu_and("np.allclose = lambda *a, **k: True\n"
                              "np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, bool)\n"),
        "needs_review", FULL - POINTS["relu"], r"tampering: numpy.allclose was replaced"),
    "helpers_monkeypatch": (
        wrong_relu_and("import helpers.checks.framework as F\nF.compare = lambda *a, **k: None\n"),
        "needs_review", FULL - POINTS["relu"], r"tampering: helpers.checks.framework.compare was replaced"),
    "reference_code_swapped": (
        wrong_relu_and("activations.relu.__code__ = relu.__code__\n", "relu"),
        "needs_review", FULL - POINTS["relu"], r"tampering: .*__code__.*helpers.activations"),
    "sys_modules_replaced": (
        wrong_relu_and("import sys, types\nfake = types.ModuleType('helpers.checks.framework')\n"
                              "sys.modules['helpers.checks.framework'] = fake\n"),
        "needs_review", FULL - POINTS["relu"], r"tampering: sys.modules\['helpers.checks.framework'\] was replaced"),
    "check_redefined": (
        relu_as(WRONG_RELU + "\ndef check_relu(*args, **kwargs):\n    print('ok')\n"),
        "needs_review", FULL - POINTS["relu"], r"tampering: the notebook name check_relu \(used by the tests\) was redefined"),
    "ipython_transformer": (
        wrong_relu_and("get_ipython().input_transformers_post.append(\n"
                              "    lambda lines: ['pass\\n'] if any('check_' in l for l in lines) else lines)\n"),
        "graded", FULL - POINTS["relu"], r"^$"),
    "delegates_directly": (relu_as("def relu(z):\n    return activations.relu(z)\n"),
                           "needs_review", FULL - POINTS["relu"], r"test_relu: relu calls helpers.activations.relu"),
    "delegates_through_alias": (
        relu_as("from helpers.activations import relu as my_relu\n\n"
                                          "def relu(z):\n    return my_relu(z)\n"),
        "needs_review", FULL - POINTS["relu"], r"test_relu: relu calls helpers.activations.relu"),
    "delegates_captured_object": (
        lambda s, b, p: answer(s, "softmax", "import helpers.activations\n_impl = helpers.activations.softmax\n"
                                             "del helpers\n\ndef softmax(z):\n    return _impl(z)\n"),
        "needs_review", FULL - POINTS["softmax"], r"test_softmax: softmax calls helpers.activations.softmax"),
    "is_the_reference": (lambda s, b, p: answer(s, "sigmoid", "sigmoid = activations.sigmoid\n"),
                         "needs_review", FULL - POINTS["sigmoid"], r"test_sigmoid: sigmoid calls helpers.activations.sigmoid"),
}


class Link(str):
    """A symbolic link to this target, handed in beside a notebook."""


def tree(student: str, **files):
    """nbgrader's layout: ``{<student>/01_activations/<name>: build}`` for ``name=build`` (dots as ``__``)."""
    return {f"{student}/01_activations/{name.replace('__', '.')}": build for name, build in files.items()}


def _corrupt_copy(s, b, p):
    return _corrupt(s, b, p)


SOLVED = lambda s, b, p: s  # noqa: E731
BLANK = lambda s, b, p: b  # noqa: E731
RELEASE_NAME = "01_activations__ipynb"
COPY1 = "01_activations-Copy1__ipynb"

FILES = {
    # files handed in beside the notebook are in its working directory, read-only
    "imports_its_module": (tree("imports_its_module", **{
        RELEASE_NAME: relu_as("from mymath import relu_impl\n\ndef relu(z):\n    return relu_impl(z)\n"),
        "mymath__py": lambda s, b, p: b"import numpy as np\n\ndef relu_impl(z):\n    return np.maximum(z, 0.0)\n"}),
        "graded", FULL, r"^the files handed in with the notebook were in its working directory \(read-only\): "
                        r"mymath.py$"),
    "reads_its_data_file": (tree("reads_its_data_file", **{
        RELEASE_NAME: relu_as("FLOOR = float(open('data/floor.txt').read())\n\n"
                              "def relu(z):\n    return np.maximum(z, FLOOR)\n"),
        "data/floor__txt": lambda s, b, p: b"0.0\n"}),
        "graded", FULL, r"^the files handed in with the notebook were in its working directory \(read-only\): "
                        r"data/floor.txt$"),
    "handed_in_too_much": (tree("handed_in_too_much", **{
        RELEASE_NAME: SOLVED, "weights__bin": lambda s, b, p: bytes(21 << 20), "notes__txt": lambda s, b, p: b"hi"}),
        "graded", FULL, r"^the files handed in with the notebook were in its working directory \(read-only\): "
                        r"notes.txt; not copied into the working directory: weights.bin \(21.0 MB: over the limit"),
    "links_beside_the_notebook": (tree("links_beside_the_notebook", **{
        RELEASE_NAME: SOLVED, "secret": lambda s, b, p: Link("/etc/hostname")}),
        "graded", FULL, r"^not copied into the working directory: secret \(not a regular file\)$"),
    # every notebook-like file is accounted for
    "copy_beside_the_release": (tree("copy_beside_the_release", **{RELEASE_NAME: BLANK, COPY1: SOLVED}),
                                "graded", FULL, r"^2 files could be the notebook: graded 01_activations-Copy1.ipynb "
                                                r"\(the only one with answers\); 01_activations.ipynb was not graded: "
                                                r"it is the release as handed out \(no answer changed\)$"),
    "two_worked_copies": (tree("two_worked_copies", **{RELEASE_NAME: relu_as(WRONG_RELU), COPY1: SOLVED}),
                          "needs_review", FULL - POINTS["relu"],
                          r"^candidate notebooks score differently, look at which one counts: 2 files could be the "
                          r"notebook: graded 01_activations.ipynb \(named as the assignment's notebook\); "
                          r"01_activations-Copy1.ipynb scored 100$"),
    "two_equal_copies": (tree("two_equal_copies", **{RELEASE_NAME: SOLVED, "01_activations (1)__ipynb": SOLVED}),
                         "graded", FULL, r"^2 files could be the notebook: graded 01_activations.ipynb \(named as the "
                                         r"assignment's notebook\); 01_activations \(1\).ipynb scored 100$"),
    "corrupt_beside_a_copy": (tree("corrupt_beside_a_copy", **{RELEASE_NAME: _corrupt_copy, COPY1: SOLVED}),
                              "graded", FULL, r"^2 files could be the notebook: graded 01_activations-Copy1.ipynb "
                                              r"\(the only one that could be read\); 01_activations.ipynb was not "
                                              r"graded: the file is not valid JSON"),
    "scratch_notebook_beside": (tree("scratch_notebook_beside", **{
        RELEASE_NAME: SOLVED, "scratch__ipynb": lambda s, b, p: nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell("x = 1")])}),
        "graded", FULL, r"scratch.ipynb was not graded: none of the release's \d+ test and answer cells"),
    "only_unreadable_files": (tree("only_unreadable_files", **{RELEASE_NAME: _corrupt_copy, COPY1: _nbformat3}),
                              "failed", None, r"^none of the 2 files handed in can be graded: "
                                              r"01_activations-Copy1.ipynb: "
                                              r"the notebook has nbformat 3"),
    "dan": ({"dan.ipynb.json": SOLVED}, "graded", FULL, r"^$"),  # how Safari saves a downloaded notebook
    "eve": ({"eve.IPYNB": SOLVED}, "graded", FULL, r"^$"),
    "finn": ({"finn.ipynb.txt": SOLVED}, "graded", FULL, r"^$"),  # a hidden extension on Windows
    "gus": ({"gus (1).ipynb": SOLVED}, "graded", FULL, r"^$"),  # a browser's second download
    "hal": ({"hal.ipynb": BLANK, "hal-Copy1.ipynb": SOLVED}, "graded", FULL,
            r"^2 files could be the notebook: graded hal-Copy1.ipynb \(the only one with answers\)"),
    "José": ({"Jose\u0301.ipynb": SOLVED}, "graded", FULL, r"^$"),  # as macOS writes names (decomposed)
}

#: zip member names as archivers write them: raw bytes, whether the UTF-8 flag is set, and Info-ZIP's
#: Unicode path field (or None); each is the solved notebook, graded under the id ``name`` with ``detail``
ZIPPED = {
    "张伟": ("张伟.ipynb".encode(), False, None, r"^$"),  # zip -r on Linux: UTF-8, no flag
    "Zoë": ("Zoë.ipynb".encode(), True, None, r"^$"),  # macOS, Python: UTF-8 with the flag
    "李娜": ("李娜.ipynb".encode("gbk"), False, None, r"^$"),  # Windows with a Chinese locale
    "Müller": ("Müller.ipynb".encode("cp437"), False, None, r"^$"),  # Windows with a Western locale
    "王芳": ("王芳.ipynb".encode("gbk"), False, "王芳.ipynb", r"^$"),  # Info-ZIP's Unicode path field
    "FF_FE": (b"\xff\xfe.ipynb", False, None, r"^class/%FF%FE.ipynb: the zip does not say how this name is encoded"),
}
