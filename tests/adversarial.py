"""The adversarial submissions of 01_activations, each with the grade it must get.

``CORPUS`` maps a student id to ``(build, status, score, detail)``:
``build(solved, blank, places)`` returns the submission (a notebook, or raw
bytes for a file that is not one); ``score`` is None when grading must fail;
``detail`` is a regular expression the detail column must match.  ``places``
holds the paths a submission tries to reach (its test writes them into the code).

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
                    "stopped_inside_the_watch")

CORPUS = {
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
        "graded", FULL, r"^(the output of cell \d+ was cut at the size limit(; |$))*$"),
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
                             "graded", FULL - POINTS["relu"], r"cell \d+ was stopped at the time limit"),
    "loop_after_exercises": (lambda s, b, p: after(s, None, "while True:\n    pass\n"),
                             "graded", FULL, r"cell \d+ was stopped at the time limit"),
    "loop_ignoring_the_limit": (
        lambda s, b, p: after(s, "test_fit_affine", "while True:\n    try:\n        while True:\n            pass\n"
                                                  "    except BaseException:\n        pass\n"),
        "graded", FULL, r"cell \d+: the cell ignored its \d+ s time limit and was stopped"),
    "stopped_inside_the_watch": (  # the limit strikes while the check's delegation watch runs: no accusation
        relu_as("def _step(x):\n    return x\n\ndef relu(z):\n    while True:\n        _step(z)\n"),
        "graded", FULL - POINTS["relu"], r"^cell \d+ was stopped at the time limit$"),
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
                r"process died: cell \d+: .*exited with code 3"),
    "huge_allocation": (lambda s, b, p: after(s, None, "hoard = [np.ones(10**8) for _ in range(1000)]"),
                        "graded", FULL, r"^$"),
    "huge_output": (lambda s, b, p: after(s, None, "print('x' * 50_000_000)"), "graded", FULL,
                    r"the output of cell \d+ was cut at the size limit"),
    "writes_outside": (
        lambda s, b, p: after(s, None, "for path in %r:\n    try:\n        open(path, 'w').write('pwned')\n"
                                       "    except OSError as err:\n        print(err)\n" % (p["outside"],)),
        "needs_review", FULL, r"tampering: tried to write .*outside"),
    "reads_solutions": (
        lambda s, b, p: after(s, None, "try:\n    print(open(%r).read()[:100])\nexcept OSError as err:\n"
                                       "    print(err)\n" % p["solution"]),
        "needs_review", FULL, r"tampering: opened .*01_activations.ipynb, inside a folder hidden"),
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
