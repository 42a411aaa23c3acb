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
KEDRO_GLUE = {"pipelines", "datasets", "settings.py", "hooks.py", "run_guards.py",
              "pipeline_registry.py", "cli.py", "__main__.py", "provenance.py", "console.py"}


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
