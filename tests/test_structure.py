"""The package's shape: no import cycle (function-level imports included), every module imports on its own, no
private name used across modules, no file over 400 lines."""

import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "jaxsteg")
MAX_LINES = 400


def _modules() -> dict[str, str]:
  """{'jaxsteg.x.y': path} of every module; packages under their own name (their __init__.py)."""
  out = {}
  for directory, _, names in os.walk(PACKAGE):
    for name in names:
      if name.endswith(".py"):
        path = os.path.join(directory, name)
        parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
        if parts[-1] == "__init__":
          parts = parts[:-1]
        out[".".join(parts)] = path
  return out


MODULES = _modules()
IMPORTABLE = sorted(m for m in MODULES if not m.endswith("__main__"))   # __main__ modules run when imported.


def _targets(name: str) -> set[str]:
  """The jaxsteg modules that importing `name` executes: it (if it is a module) and every parent package."""
  parts = name.split(".")
  return {".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in MODULES}


def _imports(path: str) -> tuple[set[str], dict[str, str]]:
  """(jaxsteg modules imported anywhere in the file, {local alias: module} of the imported modules)."""
  tree = ast.parse(open(path, encoding="utf-8").read())
  found, aliases = set(), {}
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      for a in node.names:
        if a.name.split(".")[0] == "jaxsteg":
          found |= _targets(a.name)
          if a.asname:
            aliases[a.asname] = a.name
    elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "jaxsteg":
      assert node.level == 0, f"{path}: relative import"
      found |= _targets(node.module)
      for a in node.names:
        full = f"{node.module}.{a.name}"
        if full in MODULES:
          found |= _targets(full)
          aliases[a.asname or a.name] = full
  return found, aliases


def test_the_import_graph_is_acyclic():
  graph = {m: _imports(p)[0] - {m} for m, p in MODULES.items()}
  # A package's own __init__ is executed before its submodules: that edge is not a cycle.
  graph = {m: {t for t in deps if not m.startswith(t + ".")} for m, deps in graph.items()}
  state: dict[str, int] = {}

  def visit(m, stack):
    state[m] = 1
    for d in sorted(graph[m]):
      if state.get(d) == 1:
        cycle = stack[stack.index(d):] + [d]
        pytest.fail("import cycle: " + " -> ".join(cycle))
      if d not in state:
        visit(d, stack + [d])
    state[m] = 2

  for m in sorted(graph):
    if m not in state:
      visit(m, [m])


def test_no_private_name_is_used_across_modules():
  offences = []
  for module, path in sorted(MODULES.items()):
    tree = ast.parse(open(path, encoding="utf-8").read())
    _, aliases = _imports(path)
    for node in ast.walk(tree):
      if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jaxsteg"):
        offences += [f"{module}: from {node.module} import {a.name}" for a in node.names
                     if a.name.startswith("_") and not a.name.startswith("__")]
      if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
          and node.attr.startswith("_") and not node.attr.startswith("__")):
        offences.append(f"{module}: {node.value.id}.{node.attr} ({aliases[node.value.id]})")
  assert not offences, offences


def test_no_file_is_over_400_lines():
  long = {os.path.relpath(p, ROOT): n for p in MODULES.values()
          if (n := sum(1 for _ in open(p, encoding="utf-8"))) > MAX_LINES}
  assert not long, long


def test_every_module_imports_first_in_a_fresh_package():
  """Each module as the first jaxsteg module imported (the others forgotten in between), in one interpreter:
  an import-time cycle or a missing import shows up whichever module a user starts from."""
  code = ("import importlib, sys\n"
          f"names = {IMPORTABLE!r}\n"
          "for name in names:\n"
          "  for m in [m for m in sys.modules if m == 'jaxsteg' or m.startswith('jaxsteg.')]:\n"
          "    del sys.modules[m]\n"
          "  importlib.import_module(name)\n"
          "print('imported', len(names))\n")
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False,
                        env=dict(os.environ, PYTHONPATH=ROOT))
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert f"imported {len(IMPORTABLE)}" in proc.stdout
