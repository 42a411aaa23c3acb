"""The docs' Layout section (docs/outputs.md), written from the code: each package and top-level module with
the first sentence of its own docstring, so the map cannot drift from the house.

``python -m ct_spatial_bench.layout --write`` rewrites the block between the markers in docs/outputs.md;
tests/test_readme.py fails when the two differ.
"""

from __future__ import annotations

import argparse
import ast
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
LAYOUT_PAGE = PACKAGE.parents[1] / "docs" / "outputs.md"  # the page that holds the Layout block
BEGIN = "<!-- BEGIN: python -m ct_spatial_bench.layout -->"
END = "<!-- END: python -m ct_spatial_bench.layout -->"
WIDTH = 100
INDENT = 16  # where the descriptions start


def first_sentence(path: Path) -> str:
    """The first sentence of a module's docstring, on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    text = " ".join(doc.split("\n\n")[0].split())
    return text[:text.index(". ") + 1] if ". " in text else text


def entries(folder: Path = PACKAGE, prefix: str = "") -> list[tuple[str, str]]:
    """``(name, description)`` of each package (with its subpackages) and module in ``folder``;
    ``__init__``, ``__main__`` and private modules are left out."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_dir() and (path / "__init__.py").is_file() and path.name != "pipelines":
            found.append((f"{prefix}{path.name}/", first_sentence(path / "__init__.py")))
            found += [(name, text) for name, text in entries(path, f"{prefix}{path.name}/")
                      if name.endswith("/")]
        elif path.name == "pipelines":
            found.append(("pipelines/", first_sentence(path / "__init__.py")))
        elif path.suffix == ".py" and not path.name.startswith("_") and not prefix:
            found.append((path.name, first_sentence(path)))
    return found


def layout_block() -> str:
    lines = ["```", "src/ct_spatial_bench/"]
    for name, text in entries():
        wrapped = textwrap.wrap(text, WIDTH - INDENT) or [""]
        head = f"  {name}".ljust(INDENT - 1) + " "
        if len(head) > INDENT:
            lines.append(f"  {name}")
            head = " " * INDENT
        lines.append(head + wrapped[0])
        lines += [" " * INDENT + rest for rest in wrapped[1:]]
    return "\n".join([*lines, "```"])


def with_layout(readme: str) -> str:
    """``readme`` with the block between the markers replaced by ``layout_block()``."""
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + layout_block() + "\n" + readme[end:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the Layout block of docs/outputs.md")
    if parser.parse_args().write:
        LAYOUT_PAGE.write_text(with_layout(LAYOUT_PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(layout_block())  # noqa: T201


if __name__ == "__main__":
    main()
