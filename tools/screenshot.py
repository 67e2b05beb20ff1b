"""Screenshot a notebook after "Run All" in JupyterLab, in headless Chromium.

Lets a developer look at the plots and widgets of a notebook as a student
sees them, without a desktop:

    python tools/screenshot.py solutions/01_activations/01_activations.ipynb /tmp/shots01

What it does:

1. copies the notebook alone into a temporary folder (the original is never
   touched; the `helpers` package must be importable by the kernel);
2. starts `jupyter lab` there on 127.0.0.1:PORT with a random token, with all
   Jupyter, IPython and matplotlib state in the temporary folder, the notebook
   windowing mode set to "none" (so every cell is in the page) and the news /
   update checks off;
3. opens the notebook in Chromium (Playwright, the system's /usr/bin/chromium),
   waits for an idle kernel, runs the JupyterLab command
   `notebook:run-all-cells` and waits until no cell is queued or running;
4. scrolls the notebook a screen at a time and saves OUTDIR/page_00.png, ...;
5. prints how many cells ran, the error and stderr outputs, LaTeX errors and
   whether ipywidgets rendered;
6. shuts JupyterLab down, whatever happened.

Needs: `apt-get install chromium` and `pip install playwright` (never
`playwright install`: the system Chromium is used).  Exit status 0 when the
run finished without an error output, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 1000}

# JupyterLab user settings written before lab starts.
SETTINGS = {
    # Attach every cell to the DOM, so what is scrolled to is rendered.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # No "fetch Jupyter news?" toast over the notebook, no request outside.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}

# Read the state of the current notebook from the page (window.jupyterapp is
# there because lab runs with --LabApp.expose_app_in_browser).
JS_STATE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const ctx = panel.sessionContext;
  const kernel = ctx.session && ctx.session.kernel;
  const cells = Array.from(panel.content.widgets).filter(c => c.model.type === 'code');
  let outputs = 0, errors = [];
  cells.forEach((c, i) => {
    const o = c.model.outputs;
    for (let j = 0; j < o.length; j++) {
      outputs++;
      const out = o.get(j).toJSON();
      if (out.output_type === 'error') errors.push({cell: i, ename: out.ename, evalue: out.evalue});
    }
  });
  const node = panel.node;
  return {
    ready: ctx.isReady,
    kernel: kernel ? kernel.status : null,
    codeCells: cells.length,
    executed: cells.filter(c => c.model.executionCount !== null).length,
    pending: cells.filter(c => c.promptNode && c.promptNode.textContent.includes('*')).length,
    outputs: outputs,
    errors: errors,
    stderr: node.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
    images: node.querySelectorAll('.jp-OutputArea-output img').length,
    imagesLoaded: Array.from(node.querySelectorAll('.jp-OutputArea-output img')).every(i => i.complete),
    widgets: node.querySelectorAll('.jupyter-widgets').length,
    sliders: node.querySelectorAll('.widget-slider').length,
    widgetErrors: Array.from(node.querySelectorAll('.jp-OutputArea-output'))
      .filter(e => /Error displaying widget|Loading widget/.test(e.textContent)).length,
    mathErrors: node.querySelectorAll('mjx-merror, .MathJax_Error').length,
    runAllDone: window.__runAllDone === true,
    runAllError: window.__runAllError || null,
  };
}"""

# The element that scrolls the notebook in JupyterLab 4.
JS_SCROLLER = """() => {
  const node = window.jupyterapp.shell.currentWidget.node;
  return node.querySelector('.jp-WindowedPanel-outer') || node.querySelector('.jp-Notebook');
}"""


# [scrollTop, visible height, where the content ends]: the notebook adds empty
# space after its last cell (to scroll past the end), which is left out.
JS_EXTENT = """el => {
  const cells = el.querySelectorAll('.jp-Cell');
  const last = cells[cells.length - 1];
  const end = last ? last.getBoundingClientRect().bottom - el.getBoundingClientRect().top + el.scrollTop + 20
                   : el.scrollHeight;
  return [el.scrollTop, el.clientHeight, Math.min(end, el.scrollHeight)];
}"""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebook", type=Path, help="the .ipynb to run (not modified)")
    p.add_argument("outdir", type=Path, help="folder for page_NN.png (created; old page_*.png removed)")
    p.add_argument("--port", type=int, default=8899, help="port for JupyterLab on 127.0.0.1 (default 8899)")
    p.add_argument("--timeout", type=float, default=300, help="seconds allowed for Run All (default 300)")
    p.add_argument("--overlap", type=int, default=80, help="pixels shared by consecutive pages (default 80)")
    p.add_argument("--open-details", action="store_true",
                   help="expand every <details> block (e.g. hidden answers) before the screenshots")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (prints its path)")
    return p.parse_args(argv)


def write_settings(config_dir: Path):
    for name, values in SETTINGS.items():
        path = config_dir / "lab" / "user-settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def jupyter_env(tmp: Path) -> dict:
    """The environment for lab and its kernels: state in tmp, the venv's bin on PATH."""
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "jupyter_config"), ("JUPYTER_DATA_DIR", "jupyter_data"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter_runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "matplotlib")]:
        env[var] = str(tmp / sub)
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    env.pop("NBGRADER_EXECUTION", None)  # the notebook runs in normal (student) mode
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env


def start_lab(root: Path, port: int, token: str, env: dict, log) -> subprocess.Popen:
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True"]
    # Own process group, so the kernels go down with lab if it must be killed.
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def api(port: int, token: str, path: str, method: str = "GET", timeout: float = 5):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def wait_for_lab(proc: subprocess.Popen, port: int, token: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {proc.returncode}")
        try:
            api(port, token, "/api/status", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer on port {port} within {timeout:.0f} s")


def stop_lab(proc: subprocess.Popen, port: int, token: str):
    """Ask the server to shut down (it stops its kernels), then make sure."""
    if proc.poll() is None:
        try:
            api(port, token, "/api/shutdown", method="POST")
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_until(page, predicate, timeout: float, what: str, poll: float = 0.5):
    """Poll JS_STATE until predicate(state) holds; return the state."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(JS_STATE)
        if state and predicate(state):
            return state
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}; last state: {state}")


def run_all(page, timeout: float) -> dict:
    wait_until(page, lambda s: s["ready"] and s["kernel"] == "idle", 120, "an idle kernel")
    page.evaluate("""() => {
      window.__runAllDone = false;
      window.jupyterapp.commands.execute('notebook:run-all-cells')
        .then(() => { window.__runAllDone = true; })
        .catch(e => { window.__runAllDone = true; window.__runAllError = String(e); });
    }""")

    def finished(s):
        return s["runAllDone"] and s["pending"] == 0 and s["kernel"] == "idle"

    wait_until(page, finished, timeout, "Run All to finish")
    # Widgets, images and MathJax render after the kernel goes idle: wait until
    # the page stops changing (same state twice, 1 s apart).
    last = None
    for _ in range(20):
        time.sleep(1)
        state = page.evaluate(JS_STATE)
        if state == last and state["imagesLoaded"]:
            break
        last = state
    return state


def screenshots(page, outdir: Path, overlap: int) -> int:
    """Scroll the notebook a screen at a time; save page_NN.png; return the count."""
    scroller = page.evaluate_handle(JS_SCROLLER)
    scroller.evaluate("el => { el.scrollTop = 0; }")
    n = 0
    while True:
        time.sleep(0.4)  # let lazily drawn content settle
        page.screenshot(path=str(outdir / f"page_{n:02d}.png"))
        n += 1
        top, height, end = scroller.evaluate(JS_EXTENT)
        if top + height >= end - 1 or n >= 200:
            return n
        scroller.evaluate(f"el => {{ el.scrollTop = el.scrollTop + el.clientHeight - {overlap}; }}")


def report(state: dict, pages: int, seconds: float, outdir: Path):
    print(f"pages:           {pages} in {outdir}")
    print(f"time:            {seconds:.1f} s")
    print(f"code cells run:  {state['executed']} of {state['codeCells']}")
    print(f"error outputs:   {len(state['errors'])}")
    for e in state["errors"]:
        print(f"  code cell {e['cell']}: {e['ename']}: {e['evalue']}")
    print(f"stderr outputs:  {state['stderr']} (JupyterLab shows tracebacks as stderr too)")
    print(f"images:          {state['images']}")
    print(f"LaTeX errors:    {state['mathErrors']}")
    rendered = state["widgets"] > 0 and state["widgetErrors"] == 0
    print(f"ipywidgets:      {'rendered' if rendered else 'NOT rendered'} "
          f"({state['widgets']} .jupyter-widgets, {state['sliders']} .widget-slider, "
          f"{state['widgetErrors']} widget load errors)")
    if state["runAllError"]:
        print(f"run-all error:   {state['runAllError']}")


def main(argv=None) -> int:
    args = parse_args(argv)
    notebook = args.notebook.resolve()
    if not notebook.is_file():
        sys.exit(f"no such notebook: {notebook}")
    outdir = args.outdir.resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("page_*.png"):
        old.unlink()

    start = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="nbshot-"))
    root = tmp / "root"
    root.mkdir()
    shutil.copy2(notebook, root / notebook.name)
    env = jupyter_env(tmp)
    write_settings(Path(env["JUPYTER_CONFIG_DIR"]))
    token = secrets.token_hex(16)
    log_path = tmp / "jupyter-lab.log"
    proc = None
    try:
        with open(log_path, "w") as log:
            proc = start_lab(root, args.port, token, env, log)
            wait_for_lab(proc, args.port, token)
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(tmp / "chromium-profile"), executable_path=CHROMIUM, headless=True,
                    args=CHROMIUM_ARGS, viewport=VIEWPORT)
                try:
                    page = context.pages[0] if context.pages else context.new_page()
                    page.goto(f"http://127.0.0.1:{args.port}/lab/tree/{notebook.name}?token={token}")
                    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
                    page.evaluate("() => { const s = window.jupyterapp.shell;"
                                  " s.collapseLeft(); s.collapseRight(); }")
                    state = run_all(page, args.timeout)
                    if args.open_details:
                        page.evaluate("() => document.querySelectorAll('.jp-Notebook details')"
                                      ".forEach(d => { d.open = true; })")
                        time.sleep(1)  # MathJax in the opened blocks
                    pages = screenshots(page, outdir, args.overlap)
                finally:
                    context.close()
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        if log_path.exists():
            print("--- end of jupyter lab log ---\n" + "".join(log_path.read_text().splitlines(True)[-20:]),
                  file=sys.stderr)
        return 2
    finally:
        if proc is not None:
            stop_lab(proc, args.port, token)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    report(state, pages, time.monotonic() - start, outdir)
    return 1 if state["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
