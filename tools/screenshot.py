"""Screenshot notebooks after Run All in the students' JupyterLab, in headless Chromium.

Lets an author look at the plots and widgets of a notebook as a student sees them, without a
desktop (`make test-browser` does the same for every notebook, with its checks):

    python tools/screenshot.py solutions/01_activations/01_activations.ipynb /tmp/shots

For each notebook given, a copy of its folder (the original is never touched) is opened in the
JupyterLab of `make test-browser` (browser_tests/lab.py: a free port, a token, every Jupyter,
IPython and matplotlib state folder temporary, the students' configuration), Run All is pressed,
and OUTDIR/<notebook>.png receives the whole notebook in one image.  It prints how many cells ran
and what a student would see wrong: errors, stderr, widgets that did not render, figures shown as
text, formulas that failed to typeset.  --open-details expands every <details> block (the hidden
answers) before the screenshot.

Needs what `make test-browser` installs (pip install -e ".[browser]") and Debian's Chromium
(apt-get install chromium fonts-noto-cjk); never `playwright install`.  Exit status 0 when no
notebook shows a problem, 1 otherwise.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browser_tests.lab import JupyterLab, LabPage, chromium  # noqa: E402
from browser_tests.problems import rendering_problems, run_problems  # noqa: E402

OPEN_DETAILS = "id => document.getElementById(id).querySelectorAll('details').forEach(d => { d.open = true; })"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", type=Path, nargs="+", metavar="notebook", help="the .ipynb files to run")
    p.add_argument("outdir", type=Path, help="folder for <notebook>.png (created)")
    p.add_argument("--timeout", type=float, default=300, help="seconds allowed for Run All (default 300)")
    p.add_argument("--open-details", action="store_true", help="expand every <details> block first")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    missing = [str(n) for n in args.notebooks if not n.is_file()]
    if missing:
        sys.exit(f"no such notebook: {', '.join(missing)}")
    args.outdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="nbshot-"))
    paths = []
    for k, notebook in enumerate(args.notebooks):
        shutil.copytree(notebook.resolve().parent, root / str(k), ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        paths.append(f"{k}/{notebook.name}")
    failed = False
    try:
        with JupyterLab(root) as lab, chromium() as browser:
            page = LabPage(browser, lab)
            for notebook, path in zip(args.notebooks, paths):
                start = time.monotonic()
                opened = page.open(path)
                state = opened.run_all(args.timeout)
                if args.open_details:
                    opened.page.evaluate(OPEN_DETAILS, opened.id)
                    state = opened.settle()
                image = opened.screenshot(args.outdir / f"{notebook.stem}.png")
                opened.close()
                problems = run_problems(state) + rendering_problems(state, page.errors)
                problems += [f"cell {c['index']}: {o['type']} {o['ename'] or o['name']}: "
                             f"{(o['evalue'] or o['text'])[:200]}" for c in state["cells"] for o in c["outputs"]
                             if o["type"] == "error" or o["name"] == "stderr"]
                cells = state["cells"]
                print(f"{notebook}: {image} ({time.monotonic() - start:.0f} s)")
                print(f"  code cells run: {sum(c['executionCount'] is not None for c in cells)} of {len(cells)}; "
                      f"images: {sum(len(d['images']) for c in cells for d in c['dom'])}; "
                      f"widgets: {sum(d['widget'] for c in cells for d in c['dom'])}")
                for problem in problems:
                    print(f"  {problem}")
                failed |= bool(problems)
            page.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
