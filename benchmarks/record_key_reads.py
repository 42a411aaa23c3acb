"""Count string-key reads of record fields per module: how far the typed records have reached.

A read is a subscript with a string literal (``row["question"]``) or a ``.get``/``.pop`` call
whose first argument is a string literal (``r.get("model")``), where the string names a field
of a record (``records.QAItem``, ``Prediction``, ``Verdict``, ``Decision``). Attribute reads
(``item.question``) are what typed records use instead, so this count falls as modules are
converted. Writes (``row["x"] = ...``) and deletions are not reads and are not counted.

    PYTHONPATH=src python benchmarks/record_key_reads.py            # per module, then the total
    PYTHONPATH=src python benchmarks/record_key_reads.py --total    # the total only
"""

from __future__ import annotations

import argparse
import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "ct_spatial_bench"
# The records' field names, written out here (not imported) so the count measures the same
# names before and after the records change; ``extra`` and ``meta`` maps are not record fields.
FIELDS = frozenset({
    # QA items
    "qa_id", "case_id", "image_path", "question", "answer", "answer_type", "categories",
    "source", "meta",
    # predictions
    "model", "prediction", "status", "error", "prompt", "generation", "model_revision",
    "latency_s", "timestamp", "error_kind", "base_model", "blind", "variant", "tokens",
    "input_fingerprint", "volume_fingerprint", "question_fingerprint", "input_spec",
    "run_signature", "efficiency",
    # verdicts and decisions
    "judge", "judge_model", "verdict", "reason", "raw", "prompt_version", "rule", "decision",
})


def reads_in(tree: ast.AST) -> int:
    """The number of string-key reads of record fields in one parsed module."""
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice
            if isinstance(key, ast.Constant) and key.value in FIELDS:
                count += 1
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("get", "pop") and node.args
              and isinstance(node.args[0], ast.Constant) and node.args[0].value in FIELDS):
            count += 1
    return count


def count_by_module(root: Path = ROOT) -> Counter:
    counts: Counter = Counter()
    for path in sorted(root.rglob("*.py")):
        n = reads_in(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if n:
            counts[str(path.relative_to(root.parent))] = n
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", action="store_true", help="print the total only")
    args = parser.parse_args()
    counts = count_by_module()
    if not args.total:
        for module, n in counts.most_common():
            print(f"{n:5d}  {module}")
    print(f"{sum(counts.values()):5d}  total in {len(counts)} modules")


if __name__ == "__main__":
    main()
