"""The check framework: compare a student's function with the reference.

A check runs the student's function on a list of ``Case``s, compares every
output with the reference implementation's, and on the first mismatch raises
``AssertionError`` with a message that says exactly what is wrong: the case,
the output, the element, expected against received, and a hint for the usual
mistake.  It also catches a function that is not implemented, raises, returns
None or a non-array, returns the wrong shape or dtype, modifies its inputs
in place, or hands the work to the reference implementation of the same
exercise (``ReferenceDelegation``: the hidden tests score it 0 and the grader
flags it for review).  Warnings raised while the student's code runs are captured (a
correct answer never loses points to a warning on stderr) and mentioned in
the one success line that is printed when every case passes.
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import pkgutil
import sys
import types
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..validate import describe


@dataclass
class Case:
    """One input to a checked function.

    label: what the case is, shown in messages ("extreme values z = [-1000, ..., 1000]").
    args, kwargs: the arguments, passed to the student's and the reference function.
    """

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    elementwise: bool = False  # the output is f(args[0]) element by element: messages show the input element


#: A hint looks at a failing case and may explain the usual mistake behind it.
Hint = Callable[[Case, tuple, tuple], "str | None"]


class CheckFailure(AssertionError):
    """A check found a mismatch; the message says what and where."""


class ReferenceDelegation(CheckFailure):
    """The student's function called the course's reference implementation of the same exercise."""


class NotImplementedYet(CheckFailure):
    """The student's function still raises NotImplementedError: the exercise is not started."""


class CheckInterrupted(CheckFailure):
    """The student interrupted the kernel while a check ran their function (an endless loop?)."""


def _where(tb, fn) -> str:
    """' (line k of relu: `while True:`)': the innermost line of the student's code in a traceback.

    The student's code runs in ``fn``'s namespace, or, when a check hands a wrapper of its own as ``fn``,
    in the notebook's (``__main__``, or a namespace without a module name)."""
    import linecache
    namespace, found = getattr(fn, "__globals__", None), None
    checks_own = namespace is not None and str(namespace.get("__name__", "")).startswith(__package__)
    while tb is not None:
        frame_globals = tb.tb_frame.f_globals
        if (frame_globals is namespace and not checks_own) or frame_globals.get("__name__") in (None, "__main__"):
            found = tb
        tb = tb.tb_next
    if found is None:
        return ""
    code = found.tb_frame.f_code
    line = linecache.getline(code.co_filename, found.tb_lineno).strip()
    return f" (line {found.tb_lineno - code.co_firstlineno + 1} of {code.co_name}" + (f": `{line}`)" if line else ")")


#: modules of reference implementations that an exercise's own function may not call under its name
#: (set by helpers.checks once every exercise is declared, see exercises.reference_modules)
REFERENCE_MODULES: tuple = ()
_setprofile, _getprofile = sys.setprofile, sys.getprofile  # captured before any student code runs
_AFTER_STUDENT_CALL: list = []  # called after each call of a student's function (see interface.after_student_call)


#: reference functions the notebooks hand to students as tools (imported by their setup cells, or used by
#: the solutions): calling them from another exercise is not delegation
PROVIDED = {"sigmoid", "softmax", "tanh", "identity", "get_activation", "accuracy", "predict_proba", "select_columns"}
_ALLOWED: list = []  # ids of the code of the references that ``using_reference`` put in the notebook
_WATCHING: list = []  # the profile functions of the delegation watches now installed (see no_delegation)


def _content(code) -> tuple:
    """What a copy of a function keeps whatever its name, file and line: bytecode, constants, names."""
    return code.co_code, code.co_consts, code.co_names


def references(name: str) -> tuple[dict, dict]:
    """The code an exercise's function must not hand its work to: the reference implementation called
    ``name`` and the functions of its module that it calls (so that log_softmax, which shares softmax's
    helper, counts too), except PROVIDED tools.  Returns ({id of code: label}, {content of code: label}):
    by identity, and by content for copies compiled from the source (exec of inspect.getsource)."""
    by_id, by_content = {}, {}
    for module_name in REFERENCE_MODULES:
        module = _module(module_name)
        reference = vars(module).get(name)
        if not isinstance(reference, types.FunctionType) or reference.__module__ != module.__name__:
            continue  # not defined here (window_lm imports softmax)
        callees = [vars(module).get(n) for n in reference.__code__.co_names if n not in PROVIDED]
        for fn in [reference] + [f for f in callees if isinstance(f, types.FunctionType)
                                 and f.__module__ == module.__name__]:
            by_id[id(fn.__code__)] = by_content[_content(fn.__code__)] = f"{fn.__module__}.{fn.__qualname__}"
    return by_id, by_content


def _module(name: str):
    return sys.modules.get(f"helpers.{name}") or importlib.import_module(f"helpers.{name}")


def _tools() -> set[int]:
    """ids of the code of the PROVIDED tools (what they call inside is theirs, not the student's)."""
    return {id(f.__code__) for m in REFERENCE_MODULES for n, f in vars(_module(m)).items()
            if n in PROVIDED and isinstance(f, types.FunctionType)}


def _codes(fn) -> list:
    """The code of ``fn`` and of the functions and lambdas defined inside it."""
    found, stack = [], [fn.__code__]
    while stack:
        code = stack.pop()
        found.append(code)
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return found


_CHECK_CODE: dict = {}  # the checks' own code (by id), built once: trusted whatever its file name says


def check_code() -> dict:
    """id -> code object of every function of the checks (and of what they define inside)."""
    if not _CHECK_CODE:
        package = importlib.import_module(__package__)
        modules = [importlib.import_module(f"{__package__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
        for module in modules:
            for fn in vars(module).values():
                fn = getattr(fn, "__wrapped__", fn)  # a context manager's own code, not contextlib's wrapper
                if isinstance(fn, types.FunctionType) and fn.__module__ == module.__name__:
                    _CHECK_CODE.update((id(c), c) for c in _codes(fn))
    return _CHECK_CODE


@contextlib.contextmanager
def no_delegation(name: str):
    """Raise ReferenceDelegation if the block calls the reference implementation of exercise ``name``
    (or another function of its module, see ``references``), however it is reached: by its module, an
    alias, a function object captured earlier, a copy compiled from its source, or a provided tool
    that calls it.  Apart from the exercise's own reference, calls made by the references that
    ``using_reference`` put in the notebook, by the checks' own code and by the PROVIDED tools are
    not counted (nor anything they call)."""
    by_id, by_content = references(name)
    own = {key: label for key, label in {**by_id, **by_content}.items() if label.endswith("." + name)}
    tools, checks = _tools(), check_code()
    seen, depth, known = [], [0], {}  # known: id of code -> (own label, other label), computed once

    def labels(code, key):
        if key not in known:
            content = _content(code)
            known[key] = (own.get(key) or own.get(content), by_id.get(key) or by_content.get(content))
        return known[key]

    def profile(frame, event, arg):
        if event == "call":
            code = frame.f_code
            key = id(code)
            allowed = depth[0] or key in _ALLOWED or key in checks or key in tools
            mine, other = labels(code, key)
            label = mine or (None if allowed else other)  # the exercise's own reference: however deep
            if label:
                seen.append(label)
            if allowed:
                depth[0] += 1
        elif event == "return" and depth[0]:
            depth[0] -= 1

    previous = _getprofile()
    if by_id:
        _WATCHING.append(profile)
    _setprofile(profile if by_id else previous)
    try:
        yield
    finally:
        if by_id and _getprofile() is not profile:  # the student's code switched the watch off
            seen.append("sys.setprofile to switch off the check's watch for calls to the reference")
        _setprofile(previous)
        if by_id:
            _WATCHING.remove(profile)
    if seen:
        raise ReferenceDelegation(
            f"{name} calls {seen[0]}, {'the' if seen[0].endswith('.' + name) else 'a'} reference implementation "
            f"of the course.\nWrite the computation yourself: a function that hands the work to the reference "
            f"scores 0 and is flagged for the instructor.")


def show_check_failure(shell, etype, value, tb, tb_offset=None):
    """IPython display of a CheckFailure: the message alone, after the traceback of the
    student's own error when there is one.  The checker's frames would only hide the message."""
    stb = []
    cause = value.__cause__
    if cause is not None:
        stb = shell.InteractiveTB.structured_traceback(type(cause), cause, cause.__traceback__)
        stb.append("\nThe check stopped at the error above:")
    stb.append(f"\x1b[0;31m{etype.__name__}\x1b[0m: {wrapped(str(value), len(etype.__name__) + 2)}")
    shell._showtraceback(etype, value, stb)
    return stb


def wrapped(message: str, first_indent: int = 0, width: int = 100) -> str:
    """``message`` with each line broken between words at ``width`` columns (the first line starts after
    ``first_indent`` columns of prefix): an error box that wraps by itself breaks inside words."""
    import textwrap
    lines = []
    for k, line in enumerate(message.split("\n")):
        indent = len(line) - len(line.lstrip(" "))
        pieces = textwrap.wrap(line, width - (first_indent if k == 0 else 0), subsequent_indent=" " * (indent + 2),
                               break_long_words=False, break_on_hyphens=False) or [line]
        lines.extend(pieces)
    return "\n".join(lines)


def use_short_tracebacks() -> None:
    """In IPython (Jupyter), show failed checks with ``show_check_failure``."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((CheckFailure,), show_check_failure)


def fmt(x) -> str:
    """A compact rendering of a number or small array for messages."""
    if isinstance(x, np.ndarray) and x.size > 8:
        return f"array of shape {x.shape}"
    return np.array2string(np.asarray(x), precision=6, separator=", ", suppress_small=False) \
        if isinstance(x, np.ndarray) else f"{x:.8g}" if isinstance(x, (float, np.floating)) else repr(x)


def call_student(fn, name: str, case: Case, caught: list, mutation_hint: str | None = None):
    """Run ``fn`` on a deep copy of the case's inputs; return its outputs.

    Raises CheckFailure if fn is not implemented, raises, or changes its inputs
    (with ``mutation_hint`` as the advice, when given).  Appends (case label,
    warning text) for each warning fn emits to ``caught``.
    """
    __tracebackhide__ = True  # IPython skips this frame in the student's traceback
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    with warnings.catch_warnings(record=True) as record, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            try:
                with no_delegation(name):
                    out = fn(*args, **kwargs)
            finally:
                for hook in _AFTER_STUDENT_CALL:
                    hook()
        except CheckFailure:
            raise  # a check's own message about the outputs (e.g. not a pair), not an error in fn
        except KeyboardInterrupt as interrupt:
            raise CheckInterrupted(f"you interrupted {name} while the check ran it{_where(interrupt.__traceback__, fn)}"
                                   f" on case: {case.label}\nAn endless loop? Fix {name}, run its cell, then run this "
                                   f"check again.") from None
        except NotImplementedError:
            raise NotImplementedYet(f"{name} is not implemented yet: replace `raise NotImplementedError()` "
                               f"with your code, run that cell, then run this check again.") from None
        except Exception as err:
            raise CheckFailure(f"{name} raised {type(err).__name__}: {err}\n  on case: {case.label}\n"
                               f"(see the traceback above for the line in your code)") from err
    caught.extend((case.label, f"{w.category.__name__}: {w.message}") for w in record)
    if _structure(case.args, case.kwargs) != _structure(args, kwargs):
        raise CheckFailure(f"{name} changed the lists or dicts it was given (added, removed or replaced items) "
                           f"on case: {case.label}\nRead the arguments; build new lists or dicts for your results.")
    for original, after in zip(_leaves(case.args, case.kwargs), _leaves(args, kwargs)):
        if isinstance(original, np.ndarray) and not np.array_equal(original, after, equal_nan=True):
            raise CheckFailure(f"{name} changed the values of an array it was given, on case: {case.label}\n"
                               + (mutation_hint or "Leave the arguments unchanged and return new arrays: write "
                                  "`out = z * 2` rather than `z *= 2`, `z[...] = ...` or `np.exp(z, out=z)`."))
    return out


def _structure(*values):
    """The nesting of lists, tuples and dicts in ``values``, with their lengths and keys."""
    def shape(v):
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, tuple(shape(x) for x in v))
        if isinstance(v, dict):
            return ("dict", tuple((str(k), shape(v[k])) for k in sorted(v, key=str)))
        return type(v).__name__
    return tuple(shape(v) for v in values)


def _leaves(args, kwargs):
    """The arrays inside args and kwargs, in a fixed order (lists, tuples and dicts are opened)."""
    stack = list(args) + [kwargs[k] for k in sorted(kwargs)]
    out = []
    while stack:
        item = stack.pop(0)
        if isinstance(item, (list, tuple)):
            stack[:0] = list(item)
        elif isinstance(item, dict):
            stack[:0] = [item[k] for k in sorted(item, key=str)]
        else:
            out.append(item)
    return out


def as_outputs(value, name: str, names: tuple[str, ...], case: Case, mapping: bool = False) -> tuple:
    """The function's return value as a tuple of arrays named ``names``; CheckFailure if it is not.

    mapping=True: the function returns a dict and ``names`` are its keys.
    """
    require_returned(value, name, case)
    if mapping:
        if not isinstance(value, dict):
            raise CheckFailure(f"{name} must return a dict with keys {list(names)}; received {_kind(value)} "
                               f"on case: {case.label}")
        missing = [k for k in names if k not in value]
        if missing:
            raise CheckFailure(f"{name} must return a dict with keys {list(names)}; the keys {missing} are "
                               f"missing (received keys {list(value)}) on case: {case.label}")
        values = tuple(value[k] for k in names)
    elif len(names) > 1:
        if not isinstance(value, (tuple, list)) or len(value) != len(names):
            raise CheckFailure(f"{name} must return a tuple ({', '.join(names)}); received {_kind(value)} "
                               f"on case: {case.label}")
        values = tuple(value)
    else:
        values = (value,)
    for n, v in zip(names, values):
        if isinstance(v, bool) or not isinstance(v, (np.ndarray, np.generic, float, int)):
            what = f" for {n}" if len(names) > 1 else ""
            advice = ("" if v is None else
                      "\nUse NumPy operations (np.exp, np.maximum, ...), which return arrays.")
            raise CheckFailure(f"{name} must return a NumPy array{what}; received {_kind(v)} on case: "
                               f"{case.label}{advice}")
    return tuple(np.asarray(v) for v in values)


def require_function(fn, name: str) -> None:
    """TypeError unless the check of ``name`` was handed a function (not its result, not None)."""
    if not callable(fn):
        raise TypeError(f"check_{name}: argument '{name}' must be your function {name}; received "
                        f"{_kind(fn)}. Pass the function itself: check_{name}({name}).")


def require_returned(value, name: str, case: Case | None = None, returns: str | None = None) -> None:
    """CheckFailure if the student's ``name`` returned None (a forgotten ``return``); ``returns`` says what
    it should return, e.g. "(h, cache)"."""
    if value is None:
        where = f" on case: {case.label}" if case is not None else ""
        what = f" It returns {returns}." if returns else ""
        raise CheckFailure(f"{name} returned None{where}\nDid you forget the `return` statement?{what}")


def _kind(v) -> str:
    """'list of length 3', 'int 5', 'None' ..."""
    if isinstance(v, (tuple, list)):
        return f"{type(v).__name__} of length {len(v)}"
    return describe(v)


def compare(name: str, case: Case, expected: tuple, received: tuple, names: tuple[str, ...],
            rtol: float, atol: float) -> str | None:
    """A description of the first difference between two output tuples, or None if they agree."""
    problems = []
    for n, exp, got in zip(names, expected, received):
        label = f"{name}" if len(names) == 1 else f"{n} returned by {name}"
        if got.shape != exp.shape:
            problems.append((n, f"{label} has shape {got.shape}; expected shape {exp.shape}"))
        elif got.dtype != exp.dtype and not (got.dtype.kind == exp.dtype.kind == "f"):
            convertible = exp.dtype.kind == "f" and got.dtype.kind in "biuf" and np.allclose(
                got.astype(float), exp, rtol=rtol, atol=atol)
            problems.append((n, f"{label} has dtype {got.dtype}; expected dtype {exp.dtype}"
                                + (" (convert with .astype(float))" if convertible else "")))
        else:
            diff = _first_difference(case, exp, got, rtol, atol)
            if diff:
                problems.append((n, f"{label} is wrong{diff}"))
    if not problems:
        return None
    message = problems[0][1]
    if len(names) > 1:
        good = [n for n in names if n not in {p[0] for p in problems}]
        bad = [p[0] for p in problems]
        if good:
            message = f"{', '.join(good)} {'is' if len(good) == 1 else 'are'} correct but " \
                      f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not.\n" + message
        elif len(bad) > 1:
            message = (f"{', '.join(bad[:-1])} and {bad[-1]} are {'both' if len(bad) == 2 else 'all'} wrong; "
                       f"the first:\n" + message)
    return f"{message}\n  on case: {case.label}"


def _first_difference(case: Case, exp: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> str | None:
    """'at index i (z = ...): expected e, received r (k of n elements differ)' or None."""
    bad = ~np.isclose(got, exp, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return None
    if exp.ndim == 0:
        return f": expected {fmt(exp.item())}, received {fmt(got.item())}"
    scale = np.where(np.isfinite(got) & np.isfinite(exp), np.abs(got - exp) / (atol + rtol * np.abs(exp)), np.inf)
    i = np.unravel_index(np.argmax(np.where(bad, scale, -1.0)), exp.shape)
    at = ""
    first = case.args[0] if case.args else None
    if case.elementwise and isinstance(first, np.ndarray) and first.shape == exp.shape:
        at = f" (input {fmt(float(first[i]))})"
    return (f" at index {tuple(int(j) for j in i)}{at}: expected {fmt(float(exp[i]))}, received {fmt(float(got[i]))}"
            f" ({int(bad.sum())} of {bad.size} elements differ)")


def first_hint(hints, *args) -> str | None:
    """The first hint that applies; a hint that fails on unexpected output simply does not apply."""
    for hint in hints:
        try:
            text = hint(*args)
        except Exception:
            continue
        if text:
            return text
    return None


def verify_cases(student_fn, reference_fn, cases: list[Case], *, name: str, names: tuple[str, ...] = ("output",),
                 mapping: bool = False, hints: tuple[Hint, ...] = (), error_hints: tuple = (), rtol: float = 1e-6,
                 atol: float = 1e-9, mutation_hint: str | None = None) -> list:
    """Compare ``student_fn`` with ``reference_fn`` on every case.

    Raises CheckFailure (an AssertionError) at the first case that differs, with
    the first applicable hint; ``error_hints`` (case, exception) -> str explain
    exceptions the student's code raises.  Returns the warnings it emitted.
    """
    require_function(student_fn, name)
    caught: list = []
    for case in cases:
        try:
            value = call_student(student_fn, name, case, caught, mutation_hint)
        except CheckFailure as failure:
            hint = first_hint(error_hints, case, failure.__cause__) if failure.__cause__ else None
            if hint:
                raise CheckFailure(f"{failure}\nHint: {hint}") from failure.__cause__
            raise
        got = as_outputs(value, name, names, case, mapping)
        expected = reference_fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        expected = as_outputs(expected, "the reference", names, case, mapping)
        problem = compare(name, case, expected, got, names, rtol, atol)
        if problem:
            hint = first_hint(hints, case, expected, got)
            raise CheckFailure(problem + (f"\nHint: {hint}" if hint else ""))
    return caught


def passed(name: str, n_cases: int, caught: list) -> None:
    """Print the one success line of a check (mentioning the first warning, if any)."""
    note = ""
    if caught:
        label, text = caught[0]
        note = f" (note: it emitted {text} on case: {label}; correct, but worth avoiding)"
    print(f"✓ {name}: all {n_cases} cases pass{note}")


def run_check(student_fn, reference_fn, cases: list[Case], *, name: str, **options) -> None:
    """verify_cases, then the success line.  ``options`` are those of verify_cases."""
    passed(name, len(cases), verify_cases(student_fn, reference_fn, cases, name=name, **options))


def check_gradients(name: str, loss, inputs: dict, grads: dict, tol: float = 1e-6) -> None:
    """Compare the student's ``grads`` with central finite differences of ``loss`` (helpers.gradcheck).

    loss: callable taking the dict ``inputs`` and returning the scalar J;
    grads: the student's dJ/d(input) for each key of ``inputs``.
    """
    from ..gradcheck import gradcheck
    for key, value in inputs.items():
        got = np.shape(grads[key]) if key in grads else None
        if got != np.shape(value):
            raise CheckFailure(f"{name} returned d{key} of shape {got}; expected shape {np.shape(value)}")
    report = gradcheck(loss, {k: np.array(v, dtype=np.float64) for k, v in inputs.items()},
                       {k: np.asarray(grads[k], dtype=np.float64) for k in inputs}, tol=tol)
    if not report.passed:
        raise CheckFailure(f"{name} disagrees with finite differences: d{report.key}{list(report.index)} is "
                           f"{report.analytic:.8g} by your function but {report.numeric:.8g} by "
                           f"(J(x+h) - J(x-h)) / 2h (relative error {report.max_rel_error:.1e}).")


def close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    """Whether two arrays have the same shape and values (used by hints)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


@contextlib.contextmanager
def using_reference(fn, **references):
    """While the block runs, the functions ``fn`` calls by these names are the reference ones.

    A check of an exercise that builds on earlier exercises (classifier_backward
    calls your affine_backward) then tests that exercise alone: a mistake in an
    earlier exercise, even one that left it undefined, is counted once, by its own
    check.  The notebook's own definitions are put back afterwards.
    """
    namespace = getattr(fn, "__globals__", None)
    if namespace is None or str(namespace.get("__name__", "")).startswith("helpers"):
        yield  # a reference implementation (checked against itself in the tests) calls the references already
        return
    missing = object()
    saved = {k: namespace.get(k, missing) for k in references}
    allowed = [id(f.__code__) for f in references.values() if isinstance(f, types.FunctionType)]
    try:
        namespace.update(references)
        _ALLOWED.extend(allowed)
        yield
    finally:
        del _ALLOWED[len(_ALLOWED) - len(allowed):]
        for k, v in saved.items():
            if v is missing:
                namespace.pop(k, None)
            else:
                namespace[k] = v
