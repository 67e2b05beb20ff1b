"""The IPython shell a submission runs in: Jupyter's behaviour, minus what grading must not do.

``make_shell(sink, note)`` builds an ``InteractiveShell`` whose displays, results and
errors go to ``sink()`` (the running cell's outputs), and in which

* shell escapes and package installs are not run: ``!cmd``, ``!!cmd``, ``%system``,
  ``%sx``, the shell aliases (``%ls`` ...), ``%pip``, ``%conda``, ``%mamba``,
  ``%micromamba``, ``%uv`` and the script cell magics (``%%bash``, ``%%sh``,
  ``%%script`` ...) print one line saying so and call ``note(line, "not run")``:
  a Colab habit such as ``%pip install numpy`` on top of an answer is neither
  an error nor tampering, and nothing is installed or started;
* ``%prun`` and ``%%prun`` run their code without the profiler (a profiler is
  what the delegation watch uses), ``note(line, "run without the profiler")``;
* ``obj?`` and ``%pdoc`` print their text instead of starting a pager;
* a traceback shows the student's own frames and the error's one-line reason,
  nothing of the grader, the course's checks or the Python installation
  (``student_only``).
"""
from __future__ import annotations

import types

from . import guard

INSTALLERS = ("pip", "conda", "mamba", "micromamba", "uv")
SHELL_LINE_MAGICS = ("system", "sx", "sc", "man")
NOT_RUN = "not run"
UNPROFILED = "run without the profiler"


def _student_frames(tb):
    """The traceback ``tb`` with only the frames of the student's own code (a new chain, or None)."""
    kept = []
    while tb is not None:
        if guard.student_code(tb.tb_frame.f_code):
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for entry in reversed(kept):
        chain = types.TracebackType(chain, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return chain


def student_only(error: BaseException) -> BaseException:
    """``error`` (and the exceptions chained to it) with tracebacks of the student's frames only."""
    seen, current = set(), error
    stack = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        try:
            current.with_traceback(_student_frames(current.__traceback__))
        except Exception:  # an exception object that refuses: leave it
            pass
        stack += [current.__cause__, current.__context__]
    return error


def make_shell(sink, note):
    """An InteractiveShell whose displays, results and errors go to ``sink()`` (see the module docstring);
    ``note(line, how)`` hears of every line that was not run as written."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.text import SList
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            sink().bundle("display_data", data, metadata)

        def clear_output(self, wait=False):
            sink().clear()

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            sink().bundle("execute_result", format_dict, md_dict, self.prompt_count)

        def finish_displayhook(self):
            pass

    class Shell(InteractiveShell):
        displayhook_class = Hook
        display_pub_class = Publisher

        def _showtraceback(self, etype, evalue, stb):
            sink().error(etype.__name__, str(evalue), list(stb))

        def showtraceback(self, exc_tuple=None, filename=None, tb_offset=None, exception_only=False,
                          running_compiled_code=False):
            try:
                etype, value, _ = self._get_exc_info(exc_tuple)
            except ValueError:
                return super().showtraceback(exc_tuple, filename, tb_offset, exception_only, running_compiled_code)
            if issubclass(etype, SyntaxError) or etype is UsageError or exception_only:
                return super().showtraceback(exc_tuple, filename, tb_offset, exception_only, running_compiled_code)
            value = student_only(value)
            if value.__traceback__ is None:
                return self._showtraceback(etype, value, [f"{etype.__name__}: {value}"])
            return super().showtraceback((etype, value, value.__traceback__), filename, 0, False,
                                         running_compiled_code)

        def system(self, cmd):
            _not_run(f"!{cmd}")

        system_raw = system_piped = system

        def getoutput(self, cmd, split=True, depth=0):
            _not_run(f"!!{cmd}")
            return SList() if split else ""

        def enable_gui(self, gui=None):
            pass  # inline figures need no event loop

    def _not_run(line: str) -> None:
        print(f"[make grade: `{line.strip()}` was not run: shell commands and installs do not run while grading]")
        note(line.strip(), NOT_RUN)

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    shell = Shell.instance(config=config)
    _neutralise_magics(shell, _not_run, note)
    shell.set_hook("show_in_pager", lambda _shell, data, start=0, screen_lines=0: print(
        data.get("text/plain", "") if isinstance(data, dict) else data))
    return shell


def _script_magic(function) -> bool:
    """Whether a cell magic runs another program (IPython's ScriptMagics: %%bash, %%sh, %%script ...;
    IPython loads them lazily, so the placeholder's text names the class)."""
    owner = getattr(function, "__self__", None)
    return type(owner).__name__ == "ScriptMagics" or "ScriptMagics" in repr(function)


def _neutralise_magics(shell, not_run, note) -> None:
    """Installers, shell and script magics print that they did not run; %prun runs without the profiler."""
    from IPython.core.magic import Magics, magics_class
    manager = shell.magics_manager
    for name in INSTALLERS + SHELL_LINE_MAGICS:
        manager.register_function(lambda line, _name=name: not_run(f"%{_name} {line}"), "line", name)
    cells = [name for name, function in manager.magics["cell"].items()
             if _script_magic(function) or name in ("!", "sx", "system")]
    for name in cells:
        manager.register_function(lambda line, cell, _name=name: not_run(f"%%{_name} {line}".strip() + " (cell)"),
                                  "cell", name)
    options = magics_class(type("Options", (Magics,), {}))(shell=shell)  # for IPython's option parser

    def prun(line, cell=None):
        _, statement = options.parse_options(line, "D:l:rs:T:q", list_all=True, posix=False)
        note(f"%{'%' if cell is not None else ''}prun {line}".strip(), UNPROFILED)
        code = shell.transform_cell(cell) if cell is not None else statement
        exec(compile(code, "<prun>", "exec"), shell.user_global_ns, shell.user_ns)

    manager.register_function(prun, "line_cell", "prun")
