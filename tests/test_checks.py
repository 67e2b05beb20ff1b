"""helpers.checks: every check passes the reference and prints one line; realistic student
mistakes fail with the specific hint; the framework's generic failures; progress tables.
Also the grading infrastructure: the grader's feedback preprocessor, helpers.runmode and helpers.validate."""
import re
import warnings

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import activations as A
from helpers import linear as L
from helpers import runmode, validate
from helpers.checks import (EXERCISES, Case, CheckFailure, check_collapse_linear, check_fit_affine, check_relu,
                            check_relu_grad, check_sigmoid, check_sigmoid_grad, check_softmax, check_tanh_grad,
                            check_affine_forward, check_lstm_step_forward, progress, run_check, show_progress)
from helpers.checks.framework import close, fmt
from conftest import assert_fails_naming
from grader import HideHiddenTestOutput

# wrong answers here are built on the reference: the delegation detector has its own tests
pytestmark = pytest.mark.usefixtures("without_delegation_check")

REFERENCE = {name: e.reference for name, e in EXERCISES["01_activations"].items()}
CHECKS = {name: e.check for name, e in EXERCISES["01_activations"].items()}


# ---------------------------------------------------------------- the reference passes


# ---------------------------------------------------------------- realistic mistakes and their hints


def softmax_rows(z):  # normalises the last axis, as in PyTorch: right for a vector, wrong for (C, N)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_global_max(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=0, keepdims=True)


def softmax_no_shift(z):
    e = np.exp(z)
    return e / e.sum(axis=0, keepdims=True)


def softmax_whole_matrix(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def collapse_summing_biases(Ws, bs):
    W, b = Ws[0], bs[0]
    for W_l, b_l in zip(Ws[1:], bs[1:]):
        W, b = W_l @ W, b + b_l
    return W, b


def collapse_wrong_order(Ws, bs):
    W, b = Ws[0], bs[0]
    for W_l, b_l in zip(Ws[1:], bs[1:]):
        W, b = W @ W_l, W_l @ b + b_l
    return W, b


def fit_ignoring_bias(X, y, use_bias=True):
    return np.linalg.lstsq(X.T, y.T, rcond=None)[0].T, np.zeros((1, 1))


def fit_always_with_bias(X, y, use_bias=True):
    return L.fit_affine(X, y, use_bias=True)


MISTAKES = [
    # (check, wrong implementation, hidden, words the message must contain)
    (check_sigmoid, lambda z: np.exp(z) / (1 + np.exp(z)), False, ["received nan", "Hint: sigmoid returned nan",
                                                                    "np.exp(-np.abs(z))"]),
    (check_sigmoid, lambda z: 1 / (1 + np.exp(z)), False, ["Hint: you computed sigmoid(-z)"]),
    (check_sigmoid_grad, lambda z: z * (1 - z), False, ["Hint: you returned z * (1 - z)"]),
    (check_sigmoid_grad, lambda z: A.sigmoid(z), False, ["Hint: you returned sigmoid(z) itself"]),
    (check_sigmoid_grad, lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2, False, ["Hint: nan: exp overflowed", "s = sigmoid(z); return s * (1 - s)"]),
    (check_tanh_grad, lambda z: 1 - z ** 2, False, ["Hint: you returned 1 - z**2", "pre-activation"]),
    (check_tanh_grad, lambda z: 1 - np.tanh(z), False, ["Hint: you returned 1 - tanh(z)", "squared"]),
    (check_relu, lambda z: np.max(z, 0), False, ["has shape ()", "expected shape (7,)", "np.max reduces"]),
    (check_relu, lambda z: z.copy(), False, ["Hint: you returned z unchanged"]),
    (check_relu, lambda z: np.abs(z), False, ["Hint: you returned |z|"]),
    (check_relu_grad, lambda z: (z >= 0).astype(float), False, ["at index (3,) (input 0)", "relu'(0) = 0",
                                                                 "use z > 0, not z >= 0"]),
    (check_relu_grad, lambda z: z > 0, False, ["has dtype bool; expected dtype float64", "(z > 0) is a boolean array"]),
    (check_relu_grad, lambda z: A.relu(z), False, ["Hint: you returned relu(z) itself"]),
    (check_softmax, softmax_rows, False, ["you normalised each row", "axis=0"]),
    (check_softmax, softmax_global_max, True, ["received nan", "columns on very different scales",
                                               "Subtract each column's own max"]),
    (check_softmax, softmax_no_shift, False, ["received nan", "large logits"]),
    (check_softmax, softmax_whole_matrix, False, ["you normalised over the whole matrix"]),
    (check_collapse_linear, collapse_summing_biases, False, ["W is correct but b is not", "you added the biases"]),
    (check_collapse_linear, collapse_wrong_order, False, ["b is correct but W is not", "the product is in the wrong "
                                                                                     "order"]),
    (check_fit_affine, fit_ignoring_bias, False, ["W returned by fit_affine is wrong", "use_bias=True",
                                                  "append a row of ones"]),
    (check_fit_affine, fit_always_with_bias, False, ["use_bias=False", "through the origin"]),
]


@pytest.mark.parametrize("check, wrong, hidden, words", MISTAKES,
                         ids=[f"{m[0].__name__}-{i}" for i, m in enumerate(MISTAKES)])
def test_a_realistic_mistake_fails_with_its_hint(check, wrong, hidden, words, capfd):
    assert_fails_naming(check, wrong, words, capfd, hidden=hidden)


def test_naive_sigmoid_passes_and_softmax_with_global_max_fails_only_hidden(capfd):
    check_sigmoid(lambda z: 1 / (1 + np.exp(-z)), hidden=True)  # exp(1e4) = inf gives 1/inf = 0: correct
    check_softmax(softmax_global_max)  # the visible cases cannot tell
    with pytest.raises(AssertionError, match="columns on very different scales"):
        check_softmax(softmax_global_max, hidden=True)
    out, err = capfd.readouterr()
    assert err == "" and out.count("✓") == 2


def test_a_correct_answer_with_a_warning_passes_quietly_and_mentions_it(capfd):
    check_sigmoid(lambda z: 1 / (1 + np.exp(-z)))
    out, err = capfd.readouterr()
    assert err == "", "a warning on stderr would make nbgrader score the cell 0"
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("✓ sigmoid: all 3 cases pass")
    assert "note: it emitted RuntimeWarning: overflow encountered in exp on case: extreme values" in lines[0]


@pytest.mark.parametrize("action", ["error", "ignore"])
def test_the_warning_is_caught_whatever_the_warning_filters(action, capfd):
    with warnings.catch_warnings():
        warnings.simplefilter(action)  # e.g. a notebook that turned warnings into errors, or silenced them
        check_sigmoid(lambda z: 1 / (1 + np.exp(-z)))
    out, err = capfd.readouterr()
    assert err == "" and out.startswith("✓ sigmoid") and "note: it emitted RuntimeWarning: overflow" in out


# ---------------------------------------------------------------- the framework's generic failures


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


def in_place_relu(z):
    z[z < 0] = 0
    return z


def test_returning_a_list():
    with pytest.raises(AssertionError, match=r"^relu must return a NumPy array; received list of length 7 on case"):
        check_relu(lambda z: list(A.relu(z)))
    with pytest.raises(AssertionError, match=r"^collapse_linear must return a NumPy array for b; received list of length 1"):
        check_collapse_linear(lambda Ws, bs: (L.collapse_linear(Ws, bs)[0], [1.0]))


def test_returning_one_array_where_a_tuple_is_expected():
    with pytest.raises(AssertionError, match=r"^collapse_linear must return a tuple \(W, b\); received array of shape \(2, 3\)"):
        check_collapse_linear(lambda Ws, bs: L.collapse_linear(Ws, bs)[0])
    with pytest.raises(AssertionError, match=r"^fit_affine must return a tuple \(W, b\); received tuple of length 3"):
        check_fit_affine(lambda X, y, use_bias=True: (*L.fit_affine(X, y, use_bias), 0))


def test_modifying_the_input_in_place():
    with pytest.raises(AssertionError, match=r"^relu changed the values of an array it was given, on case: small values"):
        check_relu(in_place_relu)

    def in_place_collapse(Ws, bs):
        bs[0] *= 2
        return L.collapse_linear(Ws, bs)

    with pytest.raises(AssertionError, match=r"^collapse_linear changed the values of an array it was given"):
        check_collapse_linear(in_place_collapse)


def test_writing_into_the_input_after_computing_is_caught():
    def student(z):
        out = A.relu(z)
        z[...] = 0  # the output is right, but the caller's array is destroyed
        return out

    with pytest.raises(AssertionError, match=r"^relu changed the values of an array it was given"):
        check_relu(student)


def test_wrong_shape_and_dtype():
    with pytest.raises(AssertionError, match=r"^relu has shape \(12,\); expected shape \(3, 4\)\n  on case: a random"):
        check_relu(lambda z: A.relu(z).ravel())
    with pytest.raises(AssertionError, match=r"^relu_grad has dtype int64; expected dtype float64 \(convert with "
                                             r"\.astype\(float\)\)"):
        check_relu_grad(lambda z: (z > 0).astype(np.int64))  # right values, wrong dtype: the advice is given
    with pytest.raises(AssertionError, match=r"^relu has dtype int64; expected dtype float64\n  on case"):
        check_relu(lambda z: A.relu(z).astype(np.int64))  # truncated values: converting would not help
    check_relu(lambda z: A.relu(z).astype(np.float32))  # any float dtype with the right values passes
    with pytest.raises(AssertionError, match=r"W is correct but b is not\.\nb returned by fit_affine has shape \(1,\); "
                                             r"expected shape \(1, 1\)"):
        check_fit_affine(lambda X, y, use_bias=True: (L.fit_affine(X, y, use_bias)[0], L.fit_affine(X, y, use_bias)[1][0]))


def test_an_exception_in_the_student_code():
    with pytest.raises(AssertionError, match=r"^relu raised ZeroDivisionError: division by zero\n  on case: small "):
        check_relu(lambda z: 1 / 0)


def test_a_wrong_value_names_the_index_input_expected_and_received():
    def off_at_one_element(z):
        out = A.sigmoid(z)
        if out.shape == (7,):
            out[5] += 0.01
        return out

    with pytest.raises(AssertionError) as info:
        check_sigmoid(off_at_one_element)
    message = str(info.value)
    assert message.startswith("sigmoid is wrong at index (5,) (input 1): expected 0.73105858, received 0.74105858 "
                              "(1 of 7 elements differ)\n  on case: small values")
    assert "Hint" not in message


def test_run_check_directly():
    cases = [Case("x = [1, 2]", (np.array([1.0, 2.0]),), elementwise=True),
             Case("x = [[3]]", (np.array([[3.0]]),), {"k": 2.0}, elementwise=True)]

    def reference(x, k=1.0):
        return k * x

    run_check(lambda x, k=1.0: x * k, reference, cases, name="scale")
    with pytest.raises(CheckFailure, match=r"(?s)^scale is wrong at index \(0, 0\) \(input 3\): expected 6, received 3.*"
                                           r"on case: x = \[\[3\]\]\nHint: ignored k"):
        run_check(lambda x, k=1.0: x.copy(), reference, cases, name="scale",
                  hints=(lambda case, exp, got: None, lambda case, exp, got: "ignored k"))
    run_check(lambda x, k=1.0: x * k * (1 + 1e-3), reference, cases, name="scale", rtol=1e-2)
    with pytest.raises(CheckFailure, match=r"^scale is wrong at index \(0, 0\): expected"):  # not elementwise: no input
        run_check(lambda x, k=1.0: x.copy(), reference, [Case("x = [[3]]", (np.array([[3.0]]),), {"k": 2.0})],
                  name="scale")
    with pytest.raises(CheckFailure):
        run_check(lambda x, k=1.0: x * k * (1 + 1e-3), reference, cases, name="scale")


def test_fmt_and_close():
    assert fmt(0.1 + 0.2) == "0.3" and fmt(np.float64(2.5)) == "2.5" and fmt("a") == "'a'"
    assert fmt(np.zeros(9)) == "array of shape (9,)" and fmt(np.array([1.0, 2.0])) == "[1., 2.]"
    assert close(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-12])
    assert not close(np.array([1.0, 2.0]), [1.0, 2.1]) and not close(np.ones(2), np.ones(3))
    assert not close(np.array([np.nan]), np.array([np.nan]))


# ---------------------------------------------------------------- progress


def namespace(**changes):
    ns = dict(REFERENCE)
    ns.update(changes)
    return {k: v for k, v in ns.items() if v is not None}


def test_progress_statuses():
    ns = namespace(relu_grad=lambda z: (z >= 0).astype(float), softmax=not_implemented, fit_affine=None)
    ns["unrelated"] = 42
    rows = progress("01_activations", ns)
    status = {name: s for name, _, s, _ in rows}
    assert [name for name, *_ in rows] == list(EXERCISES["01_activations"])
    assert status == {"sigmoid": "passes", "sigmoid_grad": "passes", "tanh_grad": "passes", "relu": "passes",
                      "relu_grad": "fails", "softmax": "not started", "collapse_linear": "passes",
                      "fit_affine": "missing"}
    detail = {name: d for name, _, _, d in rows}
    assert detail["relu_grad"].startswith("relu_grad is wrong at index (3,) (input 0)")
    assert "\n" not in detail["relu_grad"]
    assert detail["fit_affine"] == "no fit_affine defined yet: run its cell"
    assert detail["sigmoid"] == ""
    assert {name: p for name, p, _, _ in rows} == {n: e.points for n, e in EXERCISES["01_activations"].items()}


def test_progress_does_not_check_again_what_passed_but_checks_a_redefined_function(capsys):
    calls = []

    def relu(z):
        calls.append(1)
        return np.maximum(z, 0.0)
    check_relu(relu)
    ran = len(calls)
    assert ran > 0
    rows = {name: s for name, _, s, _ in progress("01_activations", namespace(relu=relu))}
    assert rows["relu"] == "passes" and len(calls) == ran        # its check passed: not run again

    def relu_again(z):                                           # the cell run again with a mistake
        calls.append(1)
        return np.maximum(z, 0.0) + (z == 0)
    rows = {name: s for name, _, s, _ in progress("01_activations", namespace(relu=relu_again))}
    assert rows["relu"] == "fails" and len(calls) > ran


def test_progress_prints_nothing_and_rejects_unknown_assignments(capfd):
    progress("01_activations", namespace())
    assert capfd.readouterr() == ("", "")
    assert sorted(EXERCISES)[:3] == ["01_activations", "02_backprop", "03_ngram_vs_neural_lm"]
    with pytest.raises(ValueError, match=rf"^progress: argument 'assignment' must be one of "
                                         rf"{re.escape(str(sorted(EXERCISES)))}; received '99_nothing'"):
        progress("99_nothing", {})


def test_show_progress_prints_a_text_table_outside_ipython(capsys):
    show_progress("01_activations", namespace(relu=lambda z: z, softmax=not_implemented, fit_affine=None))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "01_activations: 5 of 8 exercises pass (60 of 100 points from the visible checks)"
    assert len(lines) == 1 + 8
    assert lines[1].split()[:5] == ["✅", "sigmoid", "15", "pts", "passes"]
    row = {line.split()[1]: line for line in lines[1:]}
    assert row["relu"].split()[0] == "❌" and " fails  relu is wrong at index" in row["relu"]
    assert row["softmax"].split()[0] == "⬜" and "not started  softmax is not implemented yet" in row["softmax"]
    assert row["fit_affine"].split()[0] == "⬜" and "missing  no fit_affine defined yet" in row["fit_affine"]


def test_show_progress_displays_html_inside_ipython(monkeypatch):
    import IPython
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", shown.append)
    def relu(z):
        raise ValueError("<b>bad</b>")

    show_progress("01_activations", namespace(relu=relu))
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.HTML)
    html = shown[0].data
    assert html.startswith("<b>01_activations: 7 of 8 exercises pass (90 of 100 points")
    assert html.count("<tr>") == 9 and "<code>relu</code>" in html and "❌" in html
    assert "relu raised ValueError: &lt;b&gt;bad&lt;/b&gt;" in html and "<b>bad" not in html  # escaped


# ---------------------------------------------------------------- grading: hidden tests out of feedback


def test_hide_hidden_test_output():
    hidden = new_code_cell(
        "check_softmax(softmax)\n### BEGIN HIDDEN TESTS\ncheck_softmax(softmax, seed=106, hidden=True)\n"
        "### END HIDDEN TESTS",
        outputs=[new_output("stream", name="stdout", text="✓ softmax: all 3 cases pass\n"),
                 new_output("error", ename="CheckFailure", evalue="softmax is wrong at index (0, 1)",
                            traceback=["\x1b[0;31mCheckFailure\x1b[0m Traceback", "----> 3 check_softmax(softmax, "
                                       "seed=106, hidden=True)", "CheckFailure: softmax is wrong at index (0, 1)"])],
        metadata={"nbgrader": {"grade": True, "locked": True, "grade_id": "test_softmax", "points": 10}})
    plain = new_code_cell("relu(1 / 0)", outputs=[new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                             traceback=["----> 1 relu(1 / 0)", "ZeroDivisionError"])])
    text = new_markdown_cell("The marker BEGIN HIDDEN TESTS in a markdown cell changes nothing.")
    mine = new_code_cell("# ### BEGIN HIDDEN TESTS, in a student's cell\nrelu(1 / 0)", outputs=[new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["----> 2 relu(1 / 0)", "ZeroDivisionError"])])
    nb = new_notebook(cells=[hidden, plain, text, mine])
    before_plain, before_text, before_mine = dict(plain), dict(text), dict(mine)
    nb, _ = HideHiddenTestOutput().preprocess(nb, {})
    outputs = nb.cells[0].outputs
    assert outputs[1].traceback == ["CheckFailure: softmax is wrong at index (0, 1)"]
    assert outputs[0].text == "✓ softmax: all 3 cases pass\n"  # stream output kept
    assert "seed=106" not in str(outputs)
    assert nb.cells[1] == before_plain and nb.cells[1].outputs[0].traceback == ["----> 1 relu(1 / 0)",
                                                                                "ZeroDivisionError"]
    assert nb.cells[2] == before_text
    assert nb.cells[3] == before_mine          # only the course's locked cells hold hidden tests


# ---------------------------------------------------------------- runmode


def test_grading_mode_and_schedule(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert runmode.grading_mode() is False and runmode.schedule(2000, 200) == 2000
    monkeypatch.setenv("NBGRADER_EXECUTION", "")
    assert runmode.grading_mode() is False
    for value in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", value)
        assert runmode.grading_mode() is True and runmode.schedule(2000, 200) == 200


# ---------------------------------------------------------------- validate


def test_describe():
    assert validate.describe(np.zeros((2, 3), np.float32)) == "array of shape (2, 3) and dtype float32"
    assert validate.describe(None) == "None"
    assert validate.describe("abc") == "str 'abc'"
    assert len(validate.describe(list(range(1000)))) == 120


def test_as_float_array():
    a32 = np.ones(3, np.float32)
    assert validate.as_float_array(a32, "z", "f") is a32  # float arrays are used as they are, no copy
    assert validate.as_float_array([1, 2], "z", "f").dtype == np.float64
    assert validate.as_float_array(np.ones((2, 2)), "z", "f", ndim=(1, 2)).shape == (2, 2)
    with pytest.raises(ValueError, match=r"^f: argument 'z' must be 1-D or 3-D; received shape \(2, 2\)"):
        validate.as_float_array(np.ones((2, 2)), "z", "f", ndim=(1, 3))
    with pytest.raises(TypeError, match=r"^f: argument 'z' must be a real numeric array \(int or float\); "
                                        r"received str 'x' of dtype <U1"):
        validate.as_float_array("x", "z", "f")
    with pytest.raises(TypeError, match=r"^f: argument 'z' must be a real numeric array .*received bool True"):
        validate.as_float_array(True, "z", "f")


def test_require_shape_keys_sequence():
    validate.require_shape(np.ones((2, 5)), (2, None), "X", "f")
    with pytest.raises(ValueError, match=r"^f: argument 'X' must have shape \(2, \?\); received shape \(3, 5\)"):
        validate.require_shape(np.ones((3, 5)), (2, None), "X", "f")
    with pytest.raises(ValueError, match=r"^f: argument 'v' must have shape \(3,\); received shape \(3, 1\)"):
        validate.require_shape(np.ones((3, 1)), (3,), "v", "f")
    validate.require_keys({"a": 1, "b": 2}, ["a"], "p", "f")
    with pytest.raises(ValueError, match=r"^f: argument 'p' is missing key\(s\) \['c'\]; expected keys \['a', 'c'\], "
                                         r"received keys \['a', 'b'\]"):
        validate.require_keys({"a": 1, "b": 2}, ["a", "c"], "p", "f")
    with pytest.raises(TypeError, match=r"^f: argument 'p' must be a dict; received list \[1\]"):
        validate.require_keys([1], ["a"], "p", "f")
    assert validate.require_sequence((1, 2), "s", "f") == [1, 2]
    with pytest.raises(TypeError, match=r"^f: argument 's' must be a list or tuple; received str 'ab'"):
        validate.require_sequence("ab", "s", "f")


def test_interrupting_a_hung_check_gives_one_line_naming_the_students_function_and_line():
    """A student interrupts the kernel while a check runs an endless loop: one message, no checker internals."""
    import os
    import signal
    import threading
    ns = {}
    # "endless": 10 minutes, so that a lost interrupt fails this test instead of hanging the suite
    exec("import time\ndef relu(z):\n    start = time.monotonic()\n    while time.monotonic() - start < 600:\n"
         "        pass\n", ns)
    # SIGINT raises KeyboardInterrupt, as in a kernel (a suite started in the background inherits SIGINT ignored)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(CheckFailure) as info:
            check_relu(ns["relu"])
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, handler)
    message = str(info.value)
    assert type(info.value).__name__ == "CheckInterrupted"
    assert message.startswith("you interrupted relu while the check ran it (line ")
    assert " of relu" in message and "An endless loop? Fix relu, run its cell, then run this check again." in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("check, name", [(check_lstm_step_forward, "lstm_step_forward"),
                                         (check_affine_forward, "affine_forward")])
def test_interrupting_a_check_that_wraps_the_function_still_names_the_students_line(check, name):
    """Checks that call the student's function through a wrapper of their own: the line is the student's."""
    import os
    import signal
    import threading
    ns = {}
    exec(f"import time\ndef {name}(*args):\n    start = time.monotonic()\n    while time.monotonic() - start < 600:\n"
         "        pass\n", ns)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(CheckFailure) as info:
            check(ns[name])
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, handler)
    assert f"you interrupted {name} while the check ran it (line 3 of {name}) on case: " in str(info.value), \
        str(info.value)                  # (code made by exec has no source text to quote)
