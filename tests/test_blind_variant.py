"""A blind control is a variant of its model, never a suffix in the model's name.

Its predictions carry ``model: m3d, variant: blind``; every stage groups by the entry (the model
under its variant: ``records.entry_of``), so a pool holding a model and its blind twin keeps the
two apart from the predictions files to the report's tables, which show ``m3d`` and
``m3d_blind`` as they did when the variant was part of the name. Files written then still load.

Expected figures are worked out by hand from the four questions below: the model answers "left
lung" when it sees an image and "right lung" when the image is blanked; three references say
left, one right.
"""

import json
from dataclasses import replace

import numpy as np
import pytest

from ct_spatial_bench.datasets import RecordsDataset
from ct_spatial_bench.datasets.predictions_dataset import PredictionsDataset
from ct_spatial_bench.inference.blind_control import BlindControl
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.judges.jury import jury_decision_rows
from ct_spatial_bench.judges.offline.training import answers_outside_domain
from ct_spatial_bench.judges.upstream_scoring import upstream_scores
from ct_spatial_bench.metrics.intervals import text_metric_intervals
from ct_spatial_bench.metrics.length import length_standardised_accuracy
from ct_spatial_bench.metrics.slots import score_slots, slot_table
from ct_spatial_bench.metrics.subsets import accuracy_on_subsets
from ct_spatial_bench.models.base import Answer, ModelAdapter
from ct_spatial_bench.pipelines.judging.nodes import judge_all, pool_predictions
from ct_spatial_bench.pipelines.metrics.nodes import (
    decide_jury,
    score_accuracy,
    score_categories,
    score_text_per_item,
    summarise_text_metrics,
)
from ct_spatial_bench.pipelines.reporting.nodes import (
    build_category_table,
    build_correctness_matrix,
    build_leaderboard,
    describe_run,
)
from ct_spatial_bench.probes.blind_gap import blind_gap
from ct_spatial_bench.probes.laterality import flip_outcomes
from ct_spatial_bench.probes.variants import variant_accuracy, variant_decisions
from ct_spatial_bench.records import (
    Decision,
    Prediction,
    Verdict,
    decisions_by_item,
    entry_label,
    entry_of,
    with_variant,
)
from ct_spatial_bench.reporting.case_viewer import case_viewer_html
from ct_spatial_bench.reporting.efficiency import run_costs
from ct_spatial_bench.reporting.report import results_sections
from ct_spatial_bench.spatial.categories import LATERALITY

QUESTION = "Which lung is the nodule in?"
ITEMS = [{"qa_id": qa_id, "case_id": case, "image_path": f"{case}.nii.gz", "question": QUESTION,
          "answer": answer, "categories": [LATERALITY], "source": "t", "meta": {}}
         for qa_id, case, answer in (("a::0", "a", "left lung"), ("a::1", "a", "left lung"),
                                     ("b::0", "b", "left lung"), ("b::1", "b", "right lung"))]


class _Reader(ModelAdapter):
    """Answers from the image: left when it shows anything, right when it is blank."""

    name, input_spec = "m3d", "x"

    def __init__(self):
        self.asked = 0

    def answer_volume(self, image, questions):
        self.asked += len(questions)
        side = "left" if image is not None and np.asarray(image).any() else "right"
        return [Answer(f"{side} lung", q.text) for q in questions]

    def describe(self):
        return {"model_revision": "r", "generation": {"do_sample": False}}


def _answers(adapter, checkpoint=None):
    return run_model(adapter, ITEMS, lambda _: np.ones((2, 2)), {}, checkpoint=checkpoint,
                     progress=False)


def test_entry_label_is_the_name_tables_show():
    assert entry_label("m3d", None) == "m3d"
    assert entry_label("m3d", "blind") == "m3d_blind"
    assert entry_of({"model": "m3d", "variant": "blind"}) == "m3d_blind"
    assert entry_of(Prediction("q", "m3d", "left", variant="blind")) == "m3d_blind"


def test_blind_predictions_carry_the_model_and_the_variant(tmp_path):
    rows = _answers(BlindControl(_Reader()))
    assert {(p.model, p.variant, p.blind, p.base_model) for p in rows} == {
        ("m3d", "blind", True, "m3d")}
    dataset = PredictionsDataset(filepath=str(tmp_path / "m3d_blind.jsonl"))
    dataset.save(rows)
    first = json.loads((tmp_path / "m3d_blind.jsonl").read_text().splitlines()[0])
    assert (first["model"], first["variant"], first["blind"]) == ("m3d", "blind", True)
    # the sighted model's rows gain no variant field (the sanity run's files stay as they were)
    assert "variant" not in _answers(_Reader())[0].to_dict()


def test_a_pool_of_a_model_and_its_blind_twin_keeps_them_apart(tmp_path):
    files = {"m3d": tmp_path / "m3d.jsonl", "m3d_blind": tmp_path / "m3d_blind.jsonl"}
    PredictionsDataset(filepath=str(files["m3d"])).save(_answers(_Reader()))
    PredictionsDataset(filepath=str(files["m3d_blind"])).save(_answers(BlindControl(_Reader())))
    pooled = pool_predictions(**{name: PredictionsDataset(filepath=str(path)).load()
                                 for name, path in files.items()})
    assert len(pooled) == 8  # four answers each, none taken for a duplicate of the other's

    verdicts = judge_all(ITEMS, pooled, {"judges": ["rule"],
                                         "cache_path": str(tmp_path / "cache.sqlite")}, {})
    # one verdict per answer: the blind ones keep their variant
    assert sorted((entry_of(v), v["qa_id"], v["verdict"]) for v in verdicts) == [
        ("m3d", "a::0", "correct"), ("m3d", "a::1", "correct"), ("m3d", "b::0", "correct"),
        ("m3d", "b::1", "incorrect"),
        ("m3d_blind", "a::0", "incorrect"), ("m3d_blind", "a::1", "incorrect"),
        ("m3d_blind", "b::0", "incorrect"), ("m3d_blind", "b::1", "correct")]

    decisions_path = tmp_path / "jury_decisions.jsonl"
    RecordsDataset(filepath=str(decisions_path), record="decision").save(
        decide_jury(verdicts, {}))
    written = [json.loads(line) for line in decisions_path.read_text().splitlines()]
    assert written[0] == {"model": "m3d", "qa_id": "a::0", "rule": "majority",
                          "decision": "correct"}  # a sighted row as it always was
    assert written[4] == {"model": "m3d", "qa_id": "a::0", "rule": "majority",
                          "decision": "incorrect", "variant": "blind"}
    decision_rows = RecordsDataset(filepath=str(decisions_path), record="decision").load()

    # sighted: a::0, a::1, b::0 right, b::1 wrong: 3 of 4; blind: only b::1 right: 1 of 4
    accuracy = {r["model"]: r for r in score_accuracy(ITEMS, pooled, decision_rows)}
    assert set(accuracy) == {"m3d", "m3d_blind"}
    assert (accuracy["m3d"]["n_judged"], accuracy["m3d"]["n_correct"]) == (4, 3)
    assert (accuracy["m3d_blind"]["n_judged"], accuracy["m3d_blind"]["n_correct"]) == (4, 1)
    assert accuracy["m3d"]["accuracy"] == 0.75 and accuracy["m3d_blind"]["accuracy"] == 0.25

    per_item = score_text_per_item(ITEMS, pooled, {"sbert": False, "meteor": False})
    text = summarise_text_metrics(per_item, ITEMS, pooled)
    # exact match: the sighted answers equal the reference on 3 of 4 items, the blind on 1
    assert {r["model"]: r["exact_match"] for r in text} == {"m3d": 0.75, "m3d_blind": 0.25}

    board = build_leaderboard(list(accuracy.values()), text)
    assert list(board["model"]) == ["m3d", "m3d_blind"]
    assert list(board["accuracy"]) == [0.75, 0.25]
    categories = score_categories(ITEMS, pooled, decision_rows)
    laterality = {r["model"]: r["accuracy"] for r in categories if r["category"] == LATERALITY}
    assert laterality == {"m3d": 0.75, "m3d_blind": 0.25}
    table = build_category_table(categories)
    assert "m3d_blind" in table.to_string() and "m3d" in table.to_string()

    matrix = build_correctness_matrix(ITEMS, pooled, verdicts, decision_rows).set_index("qa_id")
    # each entry's own columns, per judge and for the jury: 1 correct, 0 incorrect
    for entry, right in (("m3d", [1, 1, 1, 0]), ("m3d_blind", [0, 0, 0, 1])):
        assert list(matrix[f"{entry}/rule"]) == right and list(matrix[f"{entry}/jury"]) == right

    decisions = decisions_by_item(decision_rows)
    # the blind gap pairs the model with its twin: 3 items only it got right, 1 only the twin
    [gap] = [r for r in blind_gap(ITEMS, decisions, pooled, {"m3d": "m3d_blind"})
             if r["category"] == "All"]
    assert (gap["n_shared"], gap["accuracy"], gap["accuracy_blind"]) == (4, 0.75, 0.25)
    assert (gap["image_only"], gap["blind_only"], gap["blind_gap"]) == (3, 1, 0.5)
    # needs_image_twin: the items the twin got wrong (a::0, a::1, b::0), all right sighted
    twin = [r for r in accuracy_on_subsets(ITEMS, pooled, decisions, n_boot=10)
            if r["subset"] == "needs_image_twin"]
    assert [(r["model"], r["n"], r["accuracy"]) for r in twin] == [("m3d", 3, 1.0)]


def _sighted_and_blind():
    return [*_answers(_Reader()), *_answers(BlindControl(_Reader()))]


def test_the_flip_probe_joins_a_mirrored_answer_to_the_sighted_one_not_the_blind():
    flip_item = {**ITEMS[0], "answer": "right lung", "meta": {"original_answer": "left lung"}}
    [mirrored] = [with_variant(p, "mirror_lr", {}) for p in _answers(_Reader())[:1]]
    [row] = flip_outcomes([flip_item], _sighted_and_blind(), [mirrored])
    # sighted "left lung" before, "left lung" on the mirrored volume: the side stayed
    assert (row["model"], row["prediction"], row["outcome"]) == ("m3d", "left lung", "same_side")


def test_a_probe_variant_is_compared_with_the_sighted_model_not_its_blind_twin(tmp_path):
    pooled = _sighted_and_blind()
    judging = {"judges": ["rule"], "cache_path": str(tmp_path / "cache.sqlite")}
    base = decisions_by_item(jury_decision_rows(judge_all(ITEMS, pooled, judging, {})))
    # the perturbed run answers as the blind one does (right lung): 1 of 4, b::1
    perturbed = [with_variant(p, "noise:0.1", {}) for p in _answers(BlindControl(_Reader()))]
    perturbed = [replace(p, blind=False) for p in perturbed]  # a probe, not a blind control
    decided = variant_decisions(judge_all(ITEMS, perturbed, judging, {}))
    [overall] = [r for r in variant_accuracy(ITEMS, perturbed, decided, pooled, base)
                 if r["category"] == "All"]
    # against the sighted model's 3 of 4 (the blind twin's 1 of 4 would make the drop 0)
    assert (overall["model"], overall["variant"]) == ("m3d", "noise:0.1")
    assert (overall["accuracy"], overall["accuracy_benchmark"]) == (0.25, 0.75)
    assert overall["accuracy_drop"] == 0.5


def test_each_entry_keeps_its_own_errors_counts_and_rows_in_every_table(tmp_path):
    # the blind control's call failed on b::1: an error, outside its denominators
    blind = [replace(p, prediction="", status="error", error="timeout",
                     error_kind="infrastructure") if p.qa_id == "b::1" else p
             for p in _answers(BlindControl(_Reader()))]
    pooled = pool_predictions(m3d=_answers(_Reader()), m3d_blind=blind)
    verdicts = judge_all(ITEMS, pooled, {"judges": ["rule"],
                                         "cache_path": str(tmp_path / "cache.sqlite")}, {})
    decision_rows = decide_jury(verdicts, {})
    decisions = decisions_by_item(decision_rows)

    # sighted 3 of 4; blind wrong on a::0, a::1, b::0 and no answer on b::1: 0 of 3, 1 error
    accuracy = {r["model"]: r for r in score_accuracy(ITEMS, pooled, decision_rows)}
    assert [(accuracy[e]["n_judged"], accuracy[e]["n_correct"], accuracy[e]["n_errors"])
            for e in ("m3d", "m3d_blind")] == [(4, 3, 0), (3, 0, 1)]
    laterality = {r["model"]: (r["n"], r["n_errors"]) for r in
                  score_categories(ITEMS, pooled, decision_rows) if r["category"] == LATERALITY}
    assert laterality == {"m3d": (4, 0), "m3d_blind": (3, 1)}
    text = {r["model"]: r for r in summarise_text_metrics(
        score_text_per_item(ITEMS, pooled, {"sbert": False, "meteor": False}), ITEMS, pooled)}
    assert [(text[e]["count"], text[e]["n_empty"], text[e]["n_errors"], text[e]["exact_match"])
            for e in ("m3d", "m3d_blind")] == [(4, 0, 0, 0.75), (3, 1, 1, 0.0)]
    per_item = score_text_per_item(ITEMS, pooled, {"sbert": False, "meteor": False})
    bleu = {r["model"]: r["n"] for r in text_metric_intervals(per_item, ITEMS, pooled, n_boot=10)
            if r["metric"] == "bleu"}
    assert bleu == {"m3d": 4, "m3d_blind": 3}  # the non-empty answers of each
    lengths = {r["model"]: r["n_decided"] for r in
               length_standardised_accuracy(ITEMS, pooled, decisions, n_boot=5)}
    assert lengths == {"m3d": 4, "m3d_blind": 3}
    # the laterality slot: left agrees with a left reference, right conflicts; the error's empty
    # text leaves the slot missing. Sighted agree on 3 of 4, blind on none.
    slots = {r["model"]: (r["n_slot"], r["slot_accuracy"])
             for r in slot_table(ITEMS, score_slots(ITEMS, pooled), n_boot=10)
             if r["category"] == "All"}
    assert slots == {"m3d": (4, 0.75), "m3d_blind": (4, 0.0)}
    upstream = {r["model"]: (r["upstream_avg3"], r["judge_rule"], r["n_rule"])
                for r in upstream_scores(verdicts, pooled)}
    assert upstream == {"m3d": (0.75, 0.75, 4), "m3d_blind": (0.0, 0.0, 3)}
    outside = answers_outside_domain(pooled, {"low": 1, "high": 1})  # every answer is 2 words
    assert sorted(r["model"] for r in outside) == ["m3d", "m3d_blind"]
    costs = run_costs(pooled).set_index("model")["n"]
    assert costs.to_dict() == {"m3d": 4, "m3d_blind": 4}
    run = describe_run(ITEMS, pooled, verdicts, decision_rows, {})
    assert run["models"] == ["m3d", "m3d_blind"]
    # the case viewer shows each entry's own answer to a::0 (left sighted, right blind)
    viewer = case_viewer_html(ITEMS, pooled, decision_rows, None)
    assert "m3d_blind" in viewer and "right lung" in viewer and "left lung" in viewer
    # M3D's card declares a laterality caveat: it stands beside both of its entries
    categories = score_categories(ITEMS, pooled, decision_rows)
    sections = results_sections(categories, [], ITEMS, pooled, [], [])
    caveat = next(str(s) for s in sections if "Laterality caveats" in str(s))
    assert "<b>m3d</b>" in caveat and "<b>m3d_blind</b>" in caveat


# Rows as files written before the variant was a field hold them (blind_name made the names).
OLD_PREDICTION = {"qa_id": "a::0", "model": "m3d_blind", "prediction": "right lung",
                  "status": "ok", "base_model": "m3d", "blind": True}
OLD_VERDICT = {"qa_id": "a::0", "model": "m3d_blind", "judge": "rule", "verdict": "incorrect"}
OLD_DECISION = {"model": "m3d_blind", "qa_id": "a::0", "rule": "majority",
                "decision": "incorrect"}


@pytest.mark.parametrize("cls, row", [(Prediction, OLD_PREDICTION), (Verdict, OLD_VERDICT),
                                      (Decision, OLD_DECISION)])
def test_old_blind_rows_load_as_the_model_under_the_blind_variant(cls, row):
    record = cls.from_dict(row)
    assert (record.model, record.variant) == ("m3d", "blind")
    assert record.key == ("m3d_blind", "a::0")  # joined and shown as before
    assert record.to_dict() == {**row, "model": "m3d", "variant": "blind"}


def test_old_blind_rows_load_through_the_datasets(tmp_path):
    for name, row in (("p.jsonl", OLD_PREDICTION), ("v.jsonl", OLD_VERDICT),
                      ("d.jsonl", OLD_DECISION)):
        (tmp_path / name).write_text(json.dumps(row) + "\n")
    [prediction] = PredictionsDataset(filepath=str(tmp_path / "p.jsonl")).load()
    [verdict] = RecordsDataset(filepath=str(tmp_path / "v.jsonl"), record="verdict").load()
    [decision] = RecordsDataset(filepath=str(tmp_path / "d.jsonl"), record="decision").load()
    assert {(r.model, r.variant) for r in (prediction, verdict, decision)} == {("m3d", "blind")}
    # an old decision and a new one for the same entry are one: the jury's rows agree
    [new] = jury_decision_rows([{**OLD_VERDICT, "model": "m3d", "variant": "blind"}])
    assert new.key == decision.key and new == decision


def test_a_model_whose_name_merely_ends_so_is_left_alone():
    # only a blind control's prediction (blind: true) is read as one; a bare name has no suffix
    row = {"qa_id": "q", "model": "not_blind", "prediction": "x", "status": "ok"}
    assert (Prediction.from_dict(row).model, Prediction.from_dict(row).variant) == (
        "not_blind", None)
    assert Verdict.from_dict({"qa_id": "q", "model": "blind", "judge": "rule",
                              "verdict": "correct"}).model == "blind"  # the blind baseline


def test_an_old_blind_checkpoint_resumes_without_asking_again(tmp_path):
    checkpoint = tmp_path / "m3d_blind.jsonl"
    _answers(BlindControl(_Reader()), checkpoint)
    # the file as the code before this change wrote it: the variant in the name, no field
    old = []
    for line in checkpoint.read_text().splitlines():
        row = json.loads(line)
        assert row.pop("variant") == "blind"
        old.append(json.dumps({**row, "model": "m3d_blind"}))
    checkpoint.write_text("\n".join(old) + "\n")
    reader = _Reader()
    resumed = _answers(BlindControl(reader), checkpoint)
    assert reader.asked == 0  # every answer reused: same run signature, nothing paid again
    assert {(p.model, p.variant, p.prediction) for p in resumed} == {
        ("m3d", "blind", "right lung")}
