"""How far the rules classifier agrees with CT-SpatialVQA's LLM filter and category tagger.

Usage::

    PYTHONPATH=src python benchmarks/spatial_classifier_agreement.py [REFERENCE_DIR] \
        [--out data/08_reporting] [--errors N]

REFERENCE_DIR defaults to ../shared/reference/ct_spatialvqa relative to the project root. The
measuring lives in :mod:`ct_spatial_bench.curation.agreement`; this script prints the figures
and writes them to ``<out>/curation_agreement.{json,md}``. Exits 0 with a message when the
reference folder is absent.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "src"))

from ct_spatial_bench.curation.agreement import (  # noqa: E402
    load_reference, measure_curation_agreement, reference_available, render_markdown)
from ct_spatial_bench.spatial.classifier import classify  # noqa: E402

DEFAULT_REFERENCE = PROJECT_ROOT.parent / "shared" / "reference" / "ct_spatialvqa"
DEFAULT_OUT = PROJECT_ROOT / "data" / "08_reporting"


def print_errors(reference: Path, n: int) -> None:
    """A seeded sample of the filter's false positives and false negatives, with their terms."""
    filter_items, _ = load_reference(reference)
    rng = random.Random(0)
    decided = [(q, a, kept, classify(q, a)) for _, q, a, kept in filter_items]
    fps = [(q, a, r) for q, a, kept, r in decided if r.is_spatial and not kept]
    fns = [(q, a, r) for q, a, kept, r in decided if kept and not r.is_spatial]
    for label, items in (("false positives", fps), ("false negatives", fns)):
        print(f"-- {label} ({len(items)}), sample:")
        for q, a, r in rng.sample(items, min(n, len(items))):
            print(f"   Q: {q}\n   A: {a}\n   terms: {r.matched_terms}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", nargs="?", default=str(DEFAULT_REFERENCE))
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the report files")
    parser.add_argument("--errors", type=int, default=0, help="print N sampled disagreements")
    args = parser.parse_args(argv)
    reference = Path(args.reference)
    if not reference_available(reference):
        print(f"reference data not found at {reference}; nothing to measure.")
        return 0

    result = measure_curation_agreement(reference)
    report = render_markdown(result)
    print(report)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "curation_agreement.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "curation_agreement.md").write_text(report)
    print(f"written: {out / 'curation_agreement.md'} and .json")
    if args.errors:
        print_errors(reference, args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
