"""The grader (package grader) and the students' package (helpers) are apart: helpers never imports the
grader, and the grader reaches into the checks only through helpers.checks.interface."""
import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_importing_every_module_of_helpers_never_imports_the_grader():
    code = ("import importlib, pkgutil, sys, helpers\n"
            "for m in pkgutil.walk_packages(helpers.__path__, 'helpers.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(n for n in sys.modules if n == 'grader' or n.startswith('grader.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]", out


def imports(folder: Path):
    """(file, imported module) for every import statement under folder."""
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                yield from ((path.name, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                yield from ((path.name, f"{node.module}.{a.name}") for a in node.names)


def test_helpers_source_never_names_the_grader():
    assert [(f, m) for f, m in imports(ROOT / "helpers") if m == "grader" or m.startswith("grader.")] == []


def test_the_grader_uses_only_the_checks_interface():
    checks = [(f, m) for f, m in imports(ROOT / "grader") if m.startswith("helpers.checks")]
    assert checks and all(m == "helpers.checks.interface" for _, m in checks), checks
