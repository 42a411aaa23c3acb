"""How far the rules classifier agrees with CT-SpatialVQA's LLM filter and category tagger.

Usage::

    PYTHONPATH=src python benchmarks/spatial_classifier_agreement.py [REFERENCE_DIR] [--errors N]

REFERENCE_DIR defaults to ../shared/reference/ct_spatialvqa relative to the project root. The
filter's positives are the generated QA (curation/spatial_qa_output_full.json) that the benchmark
kept (dataset/spatial_qa_filtered_full_nifti.jsonl), matched on case + question + answer; the
tagger is compared with Gemini's tags (dataset/spatial_qa_filtered_full_with_categories.json) on
the kept items. Exits 0 with a message when the reference folder is absent.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "src"))

from ct_spatial_bench.spatial.categories import (  # noqa: E402
    CATEGORIES, CATEGORY_KEYS, canonical_category)
from ct_spatial_bench.spatial.classifier import classify  # noqa: E402

DEFAULT_REFERENCE = PROJECT_ROOT.parent / "shared" / "reference" / "ct_spatialvqa"


def binary_agreement(truth: list[bool], pred: list[bool]) -> dict[str, float]:
    """Precision, recall, F1, accuracy and Cohen's kappa of ``pred`` against ``truth``."""
    tp = sum(t and p for t, p in zip(truth, pred))
    fp = sum((not t) and p for t, p in zip(truth, pred))
    fn = sum(t and (not p) for t, p in zip(truth, pred))
    tn = len(truth) - tp - fp - fn
    n = len(truth) or 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    observed = (tp + tn) / n
    expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
    kappa = (observed - expected) / (1 - expected) if expected < 1 else 1.0
    return {"n": len(truth), "tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision,
            "recall": recall, "f1": f1, "accuracy": observed, "kappa": kappa}


def load_reference(reference: Path):
    """(all generated QA with the upstream filter's label, kept QA with Gemini's categories)."""
    generated = json.loads((reference / "curation" / "spatial_qa_output_full.json").read_text())
    kept = set()
    with open(reference / "dataset" / "spatial_qa_filtered_full_nifti.jsonl") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                kept.add((row["case_id"], row["question"], row["answer"]))
    filter_items = [(q["question"], q["answer"], (case, q["question"], q["answer"]) in kept)
                    for case, entry in generated.items() for q in entry["qa_pairs"]]
    tagged = json.loads(
        (reference / "dataset" / "spatial_qa_filtered_full_with_categories.json").read_text())
    tag_items = [(q["question"], q["answer"], {canonical_category(c) for c in q["category"]})
                 for entry in tagged.values() for q in entry["qa_pairs"]]
    return filter_items, tag_items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", nargs="?", default=str(DEFAULT_REFERENCE))
    parser.add_argument("--errors", type=int, default=0, help="print N sampled disagreements")
    args = parser.parse_args(argv)
    reference = Path(args.reference)
    if not (reference / "curation" / "spatial_qa_output_full.json").exists():
        print(f"reference data not found at {reference}; nothing to measure.")
        return 0

    filter_items, tag_items = load_reference(reference)
    results = [classify(q, a) for q, a, _ in filter_items]
    truth = [label for _, _, label in filter_items]
    pred = [r.is_spatial for r in results]
    stats = binary_agreement(truth, pred)
    print(f"spatial filter vs upstream (n={stats['n']}, upstream positives={sum(truth)})")
    print("  precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  accuracy {accuracy:.3f}"
          "  kappa {kappa:.3f}".format(**stats))
    print("  tp {tp}  fp {fp}  fn {fn}  tn {tn}".format(**stats))

    tag_results = [classify(q, a).categories for q, a, _ in tag_items]
    print(f"category tagger vs Gemini tags (n={len(tag_items)} kept items)")
    f1s = []
    for cat in CATEGORIES:
        c_truth = [cat in tags for _, _, tags in tag_items]
        c_pred = [cat in cats for cats in tag_results]
        s = binary_agreement(c_truth, c_pred)
        f1s.append(s["f1"])
        print(f"  {CATEGORY_KEYS[cat]:<13} P {s['precision']:.3f}  R {s['recall']:.3f}  "
              f"F1 {s['f1']:.3f}  kappa {s['kappa']:.3f}  (upstream {sum(c_truth)})")
    print(f"  macro F1 {sum(f1s) / len(f1s):.3f}")

    if args.errors:
        rng = random.Random(0)
        fps = [(q, a) for (q, a, t), p in zip(filter_items, pred) if p and not t]
        fns = [(q, a) for (q, a, t), p in zip(filter_items, pred) if t and not p]
        for label, items in (("false positives", fps), ("false negatives", fns)):
            print(f"-- {label} ({len(items)}), sample:")
            for q, a in rng.sample(items, min(args.errors, len(items))):
                print(f"   Q: {q}\n   A: {a}\n   terms: {classify(q, a).matched_terms}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
