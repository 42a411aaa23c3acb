"""The layout's two import rules, read from the source (every import, lazy ones included):
a pipeline stage imports no other stage's modules (shared logic lives in domain code), and
domain code never imports Kedro (pipelines, datasets and the project's Kedro glue do)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ct_spatial_bench"
# Kedro glue: the pipelines, the Kedro datasets, and the project's settings, hooks (and the run
# guards they call, and the console's progress hook), registry and command line. Everything else
# is domain code.
KEDRO_GLUE = {"pipelines", "datasets", "settings.py", "config_loader.py", "hooks.py",
              "run_guards.py", "pipeline_registry.py", "cli.py", "__main__.py", "provenance.py",
              "console.py"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, absolute module)`` of every import in ``path``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = list(parts[:-node.level]) if path.name != "__init__.py" else \
                    list(parts[:len(parts) - node.level + 1])
                module = ".".join(base + ([node.module] if node.module else []))
                names = [f"{module}.{alias.name}" for alias in node.names] if not node.module \
                    else [module]
            else:
                names = [node.module or ""]
            found += [(node.lineno, name) for name in names]
    return found


def test_no_stage_imports_another_stage():
    crossings = []
    for path in sorted((PACKAGE / "pipelines").glob("*/*.py")):
        stage = path.parent.name
        for line, module in _imports(path):
            bits = module.split(".")
            if bits[:2] == ["ct_spatial_bench", "pipelines"] and len(bits) > 2 \
                    and bits[2] != stage:
                crossings.append(f"pipelines/{stage}/{path.name}:{line} imports {module}")
    assert not crossings, "\n".join(crossings)


def test_domain_code_never_imports_kedro():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0]
        if top in KEDRO_GLUE:
            continue
        offenders += [f"{path.relative_to(PACKAGE)}:{line} imports {module}"
                      for line, module in _imports(path)
                      if module.split(".")[0] in ("kedro", "kedro_datasets")]
    assert not offenders, "\n".join(offenders)


def test_the_rules_see_lazy_and_relative_imports(tmp_path):
    """The scanner itself: an import inside a function and a relative one are both found."""
    stage = PACKAGE / "pipelines" / "probes" / "nodes.py"
    assert any(m.startswith("ct_spatial_bench.probes") for _, m in _imports(stage))
    pipeline = PACKAGE / "pipelines" / "probes" / "pipeline.py"
    assert any(m == "ct_spatial_bench.pipelines.probes.nodes" for _, m in _imports(pipeline))


def _module_file(module: str) -> Path | None:
    """The file of ``ct_spatial_bench.a.b`` (a module, or a package's ``__init__``), if any."""
    bits = module.split(".")
    if bits[0] != PACKAGE.name:
        return None
    base = PACKAGE.joinpath(*bits[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _import_graph() -> dict[Path, set[Path]]:
    """File -> the project files it imports (lazy imports too; ``from pkg import module`` names
    the module)."""
    graph: dict[Path, set[Path]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        targets = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.lineno: [a.name for a in n.names] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom)}
        for line, module in _imports(path):
            for candidate in [module] + [f"{module}.{name}" for name in names.get(line, [])]:
                found = _module_file(candidate)
                if found and found != path and found.name != "__init__.py":
                    targets.add(found)
        graph[path] = targets
    return graph


def _cycle(graph: dict) -> list | None:
    """One cycle of ``graph`` as a list of nodes, or None."""
    state: dict = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return trail[trail.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, trail + [nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_no_module_imports_itself_through_others():
    cycle = _cycle(_import_graph())
    assert cycle is None, " -> ".join(str(p.relative_to(PACKAGE)) for p in cycle)


def test_packages_form_layers():
    """No import from a lower package back up to one that imports it: the top-level packages
    (and modules) form a graph without cycles, so each sits below everything that uses it."""
    def top(path: Path) -> str:
        return path.relative_to(PACKAGE).parts[0].removesuffix(".py")

    packages: dict[str, set[str]] = {}
    for path, targets in _import_graph().items():
        packages.setdefault(top(path), set()).update(top(t) for t in targets if top(t) != top(path))
    cycle = _cycle(packages)
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
