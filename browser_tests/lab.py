"""JupyterLab in the system's Chromium, driven by Playwright: the machinery of `make test-browser`
and of tools/screenshot.py.

    with JupyterLab(root) as lab, chromium() as browser:
        page = LabPage(browser, lab)                       # JupyterLab, loaded once
        nb = page.open("01_activations/01_activations.ipynb")
        state = nb.run_all()       # Run All; cells, outputs and what the page shows of them
        nb.screenshot(path)        # the whole notebook in one PNG

JupyterLab runs on 127.0.0.1 on a free port with a random token; every Jupyter, IPython and
matplotlib state folder is a temporary one.  It starts through the repository's `start` script, so
it has the students' configuration (jupyter-config/student: nbgrader's instructor tools hidden),
exactly as Binder and `make lab` have it; `JupyterLab(root, student=False)` is the instructor's.
The browser is Debian's Chromium (/usr/bin/chromium, or $CHROMIUM): Playwright never downloads one.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "start"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}

INSTALL_CHROMIUM = f"""\
Chromium was not found at {CHROMIUM}: the browser test needs Debian's Chromium (Playwright drives it
and never downloads a browser of its own).  Install it, with fonts for the Chinese terms and the emoji:

    sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk fonts-noto-color-emoji

(as root, without sudo).  To use another Chromium or Chrome: make test-browser CHROMIUM=/path/to/it"""

INSTALL_PLAYWRIGHT = """\
The Python package playwright is missing: `make test-browser` installs it (pip install -e ".[browser]").
Never run `playwright install`: the test uses the system's Chromium."""

# JupyterLab user settings for the test (in the temporary config folder, never the user's).
SETTINGS = {
    # Every cell stays in the page, so what the test reads and photographs is rendered.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # No "fetch Jupyter news?" toast over the notebook, no request outside.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

class ChromiumMissing(RuntimeError):
    pass


def require_chromium() -> str:
    """The path of the system's Chromium; ChromiumMissing with the install command if it is not there."""
    path = shutil.which(CHROMIUM)
    if path is None or not os.access(path, os.X_OK):
        raise ChromiumMissing(INSTALL_CHROMIUM)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def private_home(env: dict, folder: Path) -> dict:
    """``env`` with HOME (and so every XDG folder) in ``folder``: what a program writes to its home
    (npm's logs for JupyterLab, Chromium's caches) stays out of the user's."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in env.items() if not k.startswith("XDG_") or k == "XDG_RUNTIME_DIR"}
    env["HOME"] = str(folder)
    return env


def jupyter_env(state: Path) -> dict:
    """Environment for lab and its kernels: every state folder under ``state``, this Python's tools
    first on PATH, and none of the variables that would change how a notebook runs."""
    env = private_home(dict(os.environ), state / "home")
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env[var] = str(state / var.lower())
        (state / var.lower()).mkdir(parents=True, exist_ok=True)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    for var in ("NBGRADER_EXECUTION", "MPLBACKEND", "JUPYTER_CONFIG_PATH", "JUPYTER_PATH"):
        env.pop(var, None)  # a student's kernel: normal mode, inline figures, the course's config only
    for name, values in SETTINGS.items():
        path = state / "jupyter_config_dir" / "lab" / "user-settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


class JupyterLab:
    """A JupyterLab server on ``root_dir`` for the length of a ``with`` block (state in a temporary
    folder; lab's log in it, shown when the server fails to start)."""

    def __init__(self, root_dir: Path, student: bool = True, disabled_extensions=(), startup_timeout: float = 90):
        self.root_dir, self.student, self.startup_timeout = Path(root_dir), student, startup_timeout
        self.disabled_extensions = tuple(disabled_extensions)  # more lab plugins to switch off (tests)
        self.token = secrets.token_hex(16)
        self.port = None
        self.proc = None

    def __enter__(self):
        self.state = Path(tempfile.mkdtemp(prefix="course-lab-"))
        self.env = jupyter_env(self.state)
        if self.disabled_extensions:
            page_config = Path(self.env["JUPYTER_CONFIG_DIR"]) / "labconfig" / "page_config.json"
            page_config.parent.mkdir(parents=True, exist_ok=True)
            page_config.write_text(json.dumps({"disabledExtensions": dict.fromkeys(self.disabled_extensions, True)}))
        self.log_path = self.state / "jupyter-lab.log"
        self.port = free_port()
        cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
               "--LabApp.expose_app_in_browser=True"]
        if self.student:
            cmd = [str(START)] + cmd
        # cwd: the repository, as `make lab` runs it (nbgrader's Validate reads nbgrader_config.py there);
        # its own process group, so the kernels go down with lab if it has to be killed.
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        try:
            self._wait_until_up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.state, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "".join(self.log_path.read_text().splitlines(True)[-lines:])
        return ""

    def api(self, path: str, method: str = "GET", timeout: float = 10) -> tuple[int, bytes]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def url(self, path: str = "", workspace: str | None = None) -> str:
        """The lab page opening ``path`` (relative to root_dir), in a workspace of its own if named."""
        base = f"/lab/workspaces/{workspace}" if workspace else "/lab"
        tree = f"/tree/{path}" if path else ""
        return f"http://127.0.0.1:{self.port}{base}{tree}?reset&token={self.token}"

    def _wait_until_up(self):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(urllib.error.URLError, ConnectionError, OSError):
                if self.api("/api/status", timeout=2)[0] == 200:
                    return
            time.sleep(0.3)
        raise TimeoutError(f"jupyter lab did not answer within {self.startup_timeout:.0f} s:\n{self.log_tail()}")

    def stop(self):
        """Ask the server to shut down (it stops its kernels), then make sure of it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(urllib.error.URLError, ConnectionError, OSError):
            self.api("/api/shutdown", method="POST", timeout=5)
        for sig, wait in ((None, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            if sig is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue


@contextlib.contextmanager
def chromium(viewport: dict = VIEWPORT):
    """A browser context of the system's Chromium, headless."""
    executable = require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RuntimeError(INSTALL_PLAYWRIGHT) from None
    home = Path(tempfile.mkdtemp(prefix="course-chromium-"))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                                         env=private_home(dict(os.environ), home))
            try:
                yield browser.new_context(viewport=viewport)
            finally:
                browser.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


# JavaScript run in the page (window.jupyterapp exists because lab runs with
# --LabApp.expose_app_in_browser).  Each function takes the notebook's path and finds its panel.
FIND_PANEL = """const panel = Array.from(window.jupyterapp.shell.widgets('main'))
    .find(w => w.content && w.sessionContext && w.context && w.context.path === path);"""

# The state of a notebook: per code cell, its nbgrader metadata and tags, whether it ran, each output
# as the model holds it and as the page renders it (by index), and what rendered inside widgets
# (their own output areas are not in the notebook model).
JS_STATE = r"""path => {
  %s
  if (!panel) return null;
  const ctx = panel.sessionContext, kernel = ctx.session && ctx.session.kernel;
  const text = el => (el.innerText || el.textContent || '').replace(/\s+$/, '');
  const images = el => Array.from(el.querySelectorAll('img')).map(i => ({
      loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth, height: i.naturalHeight}));
  const cells = [];
  Array.from(panel.content.widgets).forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const outputs = [];
    for (let j = 0; j < cell.model.outputs.length; j++) {
      const o = cell.model.outputs.get(j).toJSON();
      const t = o.text === undefined ? '' : (typeof o.text === 'string' ? o.text : o.text.join(''));
      outputs.push({type: o.output_type, name: o.name || null, ename: o.ename || null, evalue: o.evalue || null,
                    mimes: Object.keys(o.data || {}), text: t.slice(0, 500)});
    }
    const area = cell.outputArea ? cell.outputArea.node : null;
    const dom = area ? Array.from(area.querySelectorAll(':scope > .jp-OutputArea-child > .jp-OutputArea-output'))
      .map(el => ({mime: el.getAttribute('data-mime-type'), text: text(el).slice(0, 2000), images: images(el),
                   widget: !!el.querySelector('.jupyter-widgets'),
                   widgetError: /Error displaying widget|Loading widget|model not found/i.test(el.textContent)}))
      : [];
    const nested = area ? Array.from(area.querySelectorAll('.jupyter-widgets .jp-OutputArea-output'))
      .map(el => ({mime: el.getAttribute('data-mime-type'), text: text(el).slice(0, 2000)})) : [];
    const prompt = cell.promptNode ? cell.promptNode.textContent : '';
    cells.push({index, nbgrader: cell.model.getMetadata('nbgrader') || null, tags: cell.model.getMetadata('tags') || [],
                source: cell.model.sharedModel.getSource().slice(0, 200), executionCount: cell.model.executionCount,
                pending: prompt.includes('*'), outputs, dom, nested});
  });
  const run = (window.__runAll || {})[path] || {};
  return {
    path, id: panel.id, ready: ctx.isReady, kernel: kernel ? kernel.status : null, cells,
    mathErrors: panel.node.querySelectorAll('mjx-merror, .MathJax_Error').length,
    imagesLoaded: Array.from(panel.node.querySelectorAll('.jp-OutputArea-output img')).every(i => i.complete),
    runAllDone: run.done === true, runAllError: run.error || null,
  };
}""" % FIND_PANEL

# A cheap look at the notebook while it runs (no text read from the page, which would force a layout):
# whether it is ready, the kernel's status, each code cell's execution count, and a fingerprint of
# what is drawn (outputs, loaded images, widgets, typeset formulas) to tell when drawing has stopped.
JS_PROGRESS = r"""path => {
  %s
  if (!panel) return null;
  const ctx = panel.sessionContext, kernel = ctx.session && ctx.session.kernel;
  const cells = Array.from(panel.content.widgets).filter(c => c.model.type === 'code');
  const node = panel.node, images = Array.from(node.querySelectorAll('.jp-OutputArea-output img'));
  const run = (window.__runAll || {})[path] || {};
  return {
    id: panel.id, ready: ctx.isReady, kernel: kernel ? kernel.status : null,
    ran: cells.map(c => c.model.executionCount),
    pending: cells.some(c => c.promptNode && c.promptNode.textContent.includes('*')),
    runAllDone: run.done === true,
    drawn: [cells.reduce((n, c) => n + c.model.outputs.length, 0), node.querySelectorAll('.jp-OutputArea-output').length,
            images.filter(i => i.complete).length, images.length, node.querySelectorAll('.jupyter-widgets').length,
            node.querySelectorAll('mjx-container').length],
  };
}""" % FIND_PANEL

# Run > Run All Cells on the notebook, as a student would (the command is given the notebook's
# widget id, as JupyterLab's own cell toolbar does); window.__runAll[path] records the end.
JS_RUN_ALL = """path => {
  %s
  window.__runAll = window.__runAll || {};
  const run = window.__runAll[path] = {done: false, error: null};
  window.jupyterapp.commands.execute('notebook:run-all-cells', {widgetId: panel.id})
    .then(() => { run.done = true; })
    .catch(e => { run.done = true; run.error = String(e); });
}""" % FIND_PANEL

# The notebook's scrolling element, scrolled to the top, and the height of its content up to the end
# of the last cell (the notebook adds empty space after it, to scroll past the end).
JS_EXTENT = """path => {
  %s
  const el = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
  el.scrollTop = 0;
  const cells = el.querySelectorAll('.jp-Cell');
  const last = cells[cells.length - 1];
  const box = el.getBoundingClientRect();
  const end = last ? last.getBoundingClientRect().bottom - box.top + 24 : el.scrollHeight;
  return {top: box.top, visible: el.clientHeight, content: Math.min(end, el.scrollHeight)};
}""" % FIND_PANEL


# Shut the notebook's kernel down and close its tab.
JS_CLOSE = """path => {
  %s
  return panel.sessionContext.shutdown().then(() => panel.dispose());
}""" % FIND_PANEL

# Scroll the notebook to its top once the page has laid it out again.
JS_SCROLL_TOP = """path => new Promise(done => requestAnimationFrame(() => {
  %s
  (panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node).scrollTop = 0;
  setTimeout(done, 300);
}))""" % FIND_PANEL


class LabPage:
    """JupyterLab loaded once in a browser page, with both sidebars collapsed; notebooks open in it
    as tabs (one page: a page in the background would be throttled by the browser)."""

    def __init__(self, context, lab: JupyterLab, timeout: float = 120):
        self.lab, self.timeout = lab, timeout
        self.page = context.new_page()
        self.errors = []  # uncaught errors of the page's scripts
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.goto(lab.url(workspace="test-" + secrets.token_hex(4)))
        self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=timeout * 1000)
        self.page.evaluate("() => window.jupyterapp.restored")
        self.collapse_sidebars()

    def collapse_sidebars(self):
        self.page.evaluate("() => { const s = window.jupyterapp.shell; s.collapseLeft(); s.collapseRight(); }")

    def open(self, path: str, wait: bool = True) -> "Notebook":
        """Open a notebook in a new tab; with wait=False, call its wait_ready() before using it
        (several notebooks then start their kernels at once)."""
        return Notebook(self, path, wait)

    def close(self):
        self.page.close()


class Notebook:
    """One notebook open in a LabPage, with its kernel started."""

    def __init__(self, lab_page: LabPage, path: str, wait: bool = True):
        self.lab_page, self.page, self.path = lab_page, lab_page.page, path
        self._errors_from = len(lab_page.errors)
        self.page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'})"
                           ".then(() => undefined)", path)
        if wait:
            self.wait_ready()

    def wait_ready(self):
        """Wait until the notebook is open and its kernel idle."""
        state = self.wait_until(lambda p: p["ready"] and p["kernel"] == "idle", self.lab_page.timeout, "an idle kernel")
        self.id = state["id"]
        self.node = self.page.locator(f'[id="{self.id}"]')

    @property
    def page_errors(self) -> list[str]:
        """Uncaught script errors of the page since this notebook was opened."""
        return self.lab_page.errors[self._errors_from:]

    def activate(self):
        self.page.evaluate("id => window.jupyterapp.shell.activateById(id)", self.id)

    def close(self):
        """Shut the kernel down and close the tab."""
        with contextlib.suppress(Exception):  # the page may be gone already
            self.page.evaluate(JS_CLOSE, self.path)

    def state(self) -> dict:
        """Cells, outputs and what the page shows of them (see JS_STATE)."""
        return self.page.evaluate(JS_STATE, self.path)

    def progress(self) -> dict:
        """The cheap look of JS_PROGRESS, for polling."""
        return self.page.evaluate(JS_PROGRESS, self.path)

    def wait_until(self, predicate, timeout: float, what: str, poll: float = 0.25) -> dict:
        deadline = time.monotonic() + timeout
        progress = None
        while time.monotonic() < deadline:
            progress = self.progress()
            if progress and predicate(progress):
                return progress
            time.sleep(poll)
        raise TimeoutError(f"{self.path}: timed out after {timeout:.0f} s waiting for {what}; "
                           f"kernel {progress and progress['kernel']}")

    def run_all(self, timeout: float = 180) -> dict:
        """Run All Cells; wait until it has finished and the page has stopped changing; the state."""
        self.start_run_all()
        self.wait_run_all(timeout)
        return self.settle()

    def start_run_all(self):
        """Run > Run All Cells, on this notebook (made the current one); returns at once."""
        self.page.evaluate(JS_RUN_ALL, self.path)

    def wait_run_all(self, timeout: float = 180, quiet: float = 2.0):
        """Wait for the end of Run All.  JupyterLab's Run All resolves, and clears the [*] of the
        queued cells, at the first cell that fails, even when the cell's `raises-exception` tag lets
        the kernel go on with the rest; so the end is: every code cell ran and the kernel is idle, or
        the kernel stayed idle ``quiet`` seconds with nothing more running (Run All stopped early)."""
        deadline = time.monotonic() + timeout
        quiet_since, last = None, None
        while time.monotonic() < deadline:
            progress = self.progress()
            ran = progress["ran"]
            idle = progress["runAllDone"] and progress["kernel"] == "idle" and not progress["pending"]
            if idle and None not in ran:
                return
            quiet_since = (quiet_since if ran == last else time.monotonic()) if idle else None
            if quiet_since is not None and time.monotonic() - quiet_since >= quiet:
                return
            last = ran
            time.sleep(0.25)
        raise TimeoutError(f"{self.path}: Run All did not finish within {timeout:.0f} s")

    def settle(self, polls: int = 25) -> dict:
        """Widgets, images and MathJax render after the kernel goes idle (and a notebook in a hidden
        tab lays out when shown): show it, then wait until what is drawn is the same twice, 0.4 s apart."""
        self.activate()
        last = None
        for _ in range(polls):
            time.sleep(0.4)
            drawn = self.progress()["drawn"]
            if drawn == last and drawn[2] == drawn[3]:
                break
            last = drawn
        return self.state()

    def screenshot(self, path: Path) -> Path:
        """The whole notebook in one PNG: the page is made as tall as the notebook, then put back."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.activate()
        self.lab_page.collapse_sidebars()
        size = self.page.viewport_size
        extent = self.page.evaluate(JS_EXTENT, self.path)
        chrome = size["height"] - extent["visible"]  # menus, toolbar and status bar around the notebook
        self.page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(extent["content"] + chrome))})
        try:
            self.page.evaluate(JS_SCROLL_TOP, self.path)
            self.page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=10_000)
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(size)
        return path

    # ---- widgets -----------------------------------------------------------------------------------

    def explorers(self) -> list:
        """The interactive explorers: widget outputs with an output area of their own (ipywidgets'
        interactive and the like)."""
        self.activate()
        outputs = self.node.locator(".jp-Cell .jp-OutputArea-child > .jp-OutputArea-output:has(.widget-output)")
        return [outputs.nth(i) for i in range(outputs.count())]

    @staticmethod
    def figure_of(explorer) -> str | None:
        """The figure an explorer shows now (its image data), or None."""
        images = explorer.locator(".widget-output img")
        return images.first.get_attribute("src") if images.count() else None

    def _drag(self, handle, dx: float):
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + dx, y, steps=6)
        self.page.mouse.up()

    def move_first_control(self, explorer) -> str | None:
        """Move the explorer's first slider as a student would (drag its handle to the right, or to
        the left if it is at its end), or, without a slider, choose another value of its first menu,
        radio or toggle button, check box or text box.  Returns what was done, None if the explorer
        has no control of these kinds."""
        explorer.scroll_into_view_if_needed()
        slider = explorer.locator(".widget-slider").first
        if slider.count():
            label = slider.locator(".widget-label").first.inner_text()
            readout = slider.locator(".widget-readout").first
            before = readout.inner_text() if readout.count() else None
            self._drag(slider.locator(".noUi-handle").first, 60)
            if readout.count() and readout.inner_text() == before:
                self._drag(slider.locator(".noUi-handle").first, -60)
            after = readout.inner_text() if readout.count() else "?"
            return f"dragged the slider {label!r} from {before} to {after}"
        select = explorer.locator("select").first
        if select.count():
            current = select.input_value()
            choice = next(o for o in select.locator("option").all_inner_texts() if o != current)
            select.select_option(label=choice)
            return f"chose {choice!r}"
        choices = explorer.locator(".widget-radio-box input:not(:checked), .widget-toggle-button:not(.mod-active)")
        if choices.count():
            choices.first.click()
            return "chose another option"
        checkbox = explorer.locator("input[type=checkbox]").first
        if checkbox.count():
            checkbox.click()
            return "clicked the check box"
        box = explorer.locator("input[type=text]").first
        if box.count():
            options = box.evaluate("el => el.list ? Array.from(el.list.options).map(o => o.value) : []")
            current = box.input_value()
            choice = next((o for o in options if o != current), current + " the")
            box.fill(choice)
            box.press("Enter")
            return f"typed {choice!r}"
        return None

    # ---- nbgrader ----------------------------------------------------------------------------------

    def validate(self, timeout: float = 180) -> dict:
        """Click nbgrader's Validate button in the notebook's toolbar (it saves, then validates on the
        server) and read the dialog: {'title', 'success', 'failed' (cells listed as failed), 'text'};
        the dialog is closed."""
        self.activate()
        self.node.locator(".validate-button").first.click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for(timeout=timeout * 1000)
        result = {
            "title": dialog.locator(".jp-Dialog-header").inner_text().strip(),
            "success": dialog.locator(".validation-success").count() > 0,
            "failed": dialog.get_by_text("The following cell failed:").count(),
            "text": dialog.locator(".jp-Dialog-body").inner_text(),
        }
        dialog.locator(".jp-Dialog-footer button").last.click()
        dialog.wait_for(state="detached", timeout=10_000)
        return result
