"""How far a spatial filter and a category tagger agree with CT-SpatialVQA's curation.

The reference (``../shared/reference/ct_spatialvqa``) gives three checks:

* filter: the 14,744 generated QA (``curation/spatial_qa_output_full.json``) labelled by whether
  the benchmark kept them (``dataset/spatial_qa_filtered_full_nifti.jsonl``), matched on
  case + question + answer;
* tagger: the 9,077 kept items with Gemini's categories
  (``dataset/spatial_qa_filtered_full_with_categories.json``), per category;
* the 104 items where a human annotator and the Gemini filter disagreed
  (``curation/gemini_human_disagreements.json``): which side does our filter take?

``measure_curation_agreement`` returns plain figures; ``render_markdown`` writes them up.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ct_spatial_bench.statistics import cohen_kappa
from ct_spatial_bench.spatial.categories import CATEGORIES, CATEGORY_KEYS, canonical_category

GENERATED_FILE = Path("curation") / "spatial_qa_output_full.json"
KEPT_FILE = Path("dataset") / "spatial_qa_filtered_full_nifti.jsonl"
CATEGORIES_FILE = Path("dataset") / "spatial_qa_filtered_full_with_categories.json"
DISAGREEMENTS_FILE = Path("curation") / "gemini_human_disagreements.json"


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
    kappa = cohen_kappa(truth, pred)  # NaN where undefined: statistics' convention
    return {"n": len(truth), "tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision,
            "recall": recall, "f1": f1, "accuracy": observed, "kappa": kappa}


def reference_available(reference: str | Path) -> bool:
    reference = Path(reference)
    return all((reference / f).exists() for f in (GENERATED_FILE, KEPT_FILE, CATEGORIES_FILE))


def load_reference(reference: str | Path):
    """(generated QA with the upstream filter's label, kept QA with Gemini's categories).

    Filter items are ``(case_id, question, answer, kept)``; tag items
    ``(case_id, question, answer, set of canonical categories)``.
    """
    reference = Path(reference)
    generated = json.loads((reference / GENERATED_FILE).read_text())
    kept = set()
    with open(reference / KEPT_FILE, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                kept.add((row["case_id"], row["question"], row["answer"]))
    filter_items = [(case, q["question"], q["answer"], (case, q["question"], q["answer"]) in kept)
                    for case, entry in generated.items() for q in entry["qa_pairs"]]
    tagged = json.loads((reference / CATEGORIES_FILE).read_text())
    tag_items = [(case, q["question"], q["answer"],
                  {canonical_category(c) for c in q["category"]})
                 for case, entry in tagged.items() for q in entry["qa_pairs"]]
    return filter_items, tag_items


def _rules_classify(question: str, answer: str):
    from ct_spatial_bench.spatial.classifier import classify

    return classify(question, answer)


def _filter_failures(filter_items, decisions, tag_of, results) -> dict[str, Any]:
    """Where the filter errs: recall per upstream category, terms behind false positives."""
    recall_by_category = {}
    for cat in CATEGORIES:
        hits = [d for item, d in zip(filter_items, decisions)
                if item[3] and cat in tag_of.get(item[:3], ())]
        if hits:
            recall_by_category[CATEGORY_KEYS[cat]] = {"n": len(hits),
                                                      "recall": sum(hits) / len(hits)}
    fp_terms: Counter[str] = Counter()
    for item, d, result in zip(filter_items, decisions, results):
        if d and not item[3]:
            fp_terms.update({t for terms in result.matched_terms.values() for t in terms})
    fn_no_terms = sum(1 for item, d, r in zip(filter_items, decisions, results)
                      if item[3] and not d and not r.matched_terms)
    return {"recall_by_upstream_category": recall_by_category,
            "false_positive_terms": fp_terms.most_common(15),
            "false_negatives_without_any_spatial_term": fn_no_terms}


def disagreement_check(reference: str | Path, is_spatial: Callable[[str, str], bool]
                       ) -> dict[str, Any]:
    """On the items where human and Gemini disagreed, how often our filter sides with each."""
    rows = json.loads((Path(reference) / DISAGREEMENTS_FILE).read_text())
    spatial_rows = [r for r in rows if r.get("type") == "spatial"]
    ours = [is_spatial(r["question"], r["answer"]) for r in spatial_rows]
    by_human = Counter(r["human"] for r in spatial_rows)
    return {
        "n": len(rows), "n_spatial_type": len(spatial_rows),
        "types": dict(Counter(r.get("type") for r in rows)),
        "human_spatial_gemini_not": by_human[True], "gemini_spatial_human_not": by_human[False],
        "ours_agrees_with_human": sum(o == r["human"] for o, r in zip(ours, spatial_rows)),
        "ours_agrees_with_gemini": sum(o == r["gemini"] for o, r in zip(ours, spatial_rows)),
        "ours_spatial": sum(ours),
    }


def measure_curation_agreement(reference: str | Path, classify_fn=_rules_classify,
                               name: str = "rules") -> dict[str, Any]:
    """Filter, tagger and disagreement figures of ``classify_fn`` against the reference.

    ``classify_fn(question, answer)`` returns an object with ``is_spatial``, ``categories`` and
    ``matched_terms`` (the rules classifier's :class:`SpatialClassification`).
    """
    filter_items, tag_items = load_reference(reference)
    results = [classify_fn(q, a) for _, q, a, _ in filter_items]
    truth = [kept for *_, kept in filter_items]
    decisions = [r.is_spatial for r in results]
    tag_of = {item[:3]: item[3] for item in tag_items}
    tag_results = {item[:3]: classify_fn(item[1], item[2]).categories for item in tag_items}
    per_category = {}
    for cat in CATEGORIES:
        c_truth = [cat in tags for *key, tags in tag_items]
        c_pred = [cat in tag_results[tuple(key)] for *key, _ in tag_items]
        stats = binary_agreement(c_truth, c_pred)
        per_category[CATEGORY_KEYS[cat]] = {**stats, "name": cat, "upstream_n": sum(c_truth)}
    exact = sum(set(tag_results[item[:3]]) == item[3] for item in tag_items)
    return {
        "classifier": name,
        "filter": {**binary_agreement(truth, decisions), "upstream_positives": sum(truth)},
        "filter_failures": _filter_failures(filter_items, decisions, tag_of, results),
        "tagger": {
            "n": len(tag_items), "per_category": per_category,
            "macro_f1": sum(c["f1"] for c in per_category.values()) / len(per_category),
            "exact_set_match": exact / (len(tag_items) or 1),
        },
        "human_gemini_disagreements": disagreement_check(
            reference, lambda q, a: classify_fn(q, a).is_spatial),
    }


def render_markdown(result: dict[str, Any]) -> str:
    """The agreement figures as a short Markdown report."""
    f, t, d = result["filter"], result["tagger"], result["human_gemini_disagreements"]
    lines = [
        f"# Curation agreement: `{result['classifier']}` vs CT-SpatialVQA", "",
        "## Spatial filter vs upstream filter (Gemini, kept = in the 9,077)", "",
        f"n = {f['n']} generated QA, upstream positives = {f['upstream_positives']}", "",
        "| precision | recall | F1 | accuracy | Cohen kappa | tp | fp | fn | tn |",
        "|---|---|---|---|---|---|---|---|---|",
        "| {precision:.3f} | {recall:.3f} | {f1:.3f} | {accuracy:.3f} | {kappa:.3f} | {tp} | {fp} "
        "| {fn} | {tn} |".format(**f), "",
        "Recall on kept items, by the category upstream gave them:", "",
        "| category | n | recall |", "|---|---|---|",
    ]
    for key, row in result["filter_failures"]["recall_by_upstream_category"].items():
        lines.append(f"| {key} | {row['n']} | {row['recall']:.3f} |")
    fails = result["filter_failures"]
    lines += ["", f"False negatives with no spatial term matched at all: "
              f"{fails['false_negatives_without_any_spatial_term']}",
              "Terms most often behind false positives: "
              + ", ".join(f"{term} ({n})" for term, n in fails["false_positive_terms"]), "",
              f"## Category tagger vs upstream categories (n = {t['n']} kept items)", "",
              "| category | upstream n | precision | recall | F1 | kappa |",
              "|---|---|---|---|---|---|"]
    for key, row in t["per_category"].items():
        lines.append(f"| {row['name']} | {row['upstream_n']} | {row['precision']:.3f} | "
                     f"{row['recall']:.3f} | {row['f1']:.3f} | {row['kappa']:.3f} |")
    lines += ["", f"Macro F1 {t['macro_f1']:.3f}; exact category-set match "
              f"{t['exact_set_match']:.3f}.", "",
              "## The human-vs-Gemini disagreements", "",
              f"{d['n']} items ({d['types']}); of the {d['n_spatial_type']} spatial-filter "
              f"disagreements the human called {d['human_spatial_gemini_not']} spatial that Gemini "
              f"dropped and dropped {d['gemini_spatial_human_not']} that Gemini kept. "
              f"Our filter sides with the human on {d['ours_agrees_with_human']} and with Gemini "
              f"on {d['ours_agrees_with_gemini']} (it calls {d['ours_spatial']} spatial).", ""]
    return "\n".join(lines)
