"""Questions edited, removed, reordered or moved after a run: a rerun asks exactly those again,
and the accuracy equals a fresh run's (before: answers were matched by qa_id alone, so removing
one question re-attached old answers to its neighbours, 0.872 -> 0.763, "38 of 38 resumed").

Every expectation is written from the scenario: which qa_ids now hold another question, and the
truth of each question from where the test put the voxel.
"""

from __future__ import annotations

import logging

import pytest
from identity_helpers import VoxelReader, loader, qa_rows, volume

from ct_spatial_bench.identity import current_predictions
from ct_spatial_bench.judges.jury import jury_decision_rows
from ct_spatial_bench.judges.registry import create_judge
from ct_spatial_bench.judges.engine import judge_predictions
from ct_spatial_bench.metrics.accuracy import accuracy_by_model
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.records import decisions_by_item, normalise_qa_items

VOXELS = {"a": (0, 0, 0), "b": (3, 0, 3), "c": (0, 3, 3)}
BEFORE = {"a": ["left", "right", "upper", "lower"],
          "b": ["upper", "left", "lower", "right"],
          "c": ["upper", "left", "right", "lower"]}
AFTER = {"a": ["left", "upper", "lower"],            # a::1 ("right") removed: a::1, a::2 shift
         "b": ["upper", "right", "lower", "right"],  # b::1 edited: "left" -> "right"
         "c": ["lower", "left", "right", "upper"]}   # c::0 and c::3 swapped
# The qa_ids (upstream's form, case::position) that hold another question after the edits;
# a.nii.gz::3 no longer exists.
CHANGED = {"a.nii.gz::1", "a.nii.gz::2", "b.nii.gz::1", "c.nii.gz::0", "c.nii.gz::3"}


def _qa(halves):
    return normalise_qa_items(qa_rows({case: (VOXELS[case], halves[case]) for case in halves}))


def _accuracy(qa, predictions):
    verdicts = judge_predictions([create_judge("rule")], qa, predictions, progress=False)
    decisions = decisions_by_item(jury_decision_rows(verdicts, rule="majority"))
    [row] = accuracy_by_model(qa, predictions, decisions, n_boot=10)
    return row["accuracy"], row["n_judged"]


@pytest.fixture
def images():
    return loader({case: volume(voxel) for case, voxel in VOXELS.items()})


def test_edited_removed_and_reordered_questions_are_asked_again(tmp_path, images, caplog):
    checkpoint = tmp_path / "voxel_reader.jsonl"
    first = VoxelReader()
    run_model(first, _qa(BEFORE), images, {}, checkpoint=checkpoint, progress=False)
    assert len(first.asked) == 12

    after = _qa(AFTER)
    rerun = VoxelReader()
    with caplog.at_level(logging.WARNING):
        resumed = run_model(rerun, after, images, {}, checkpoint=checkpoint, progress=False)
    assert set(rerun.asked) == CHANGED and len(rerun.asked) == len(CHANGED)
    warning = next(r.getMessage() for r in caplog.records if "changed since" in r.getMessage())
    assert warning.startswith("voxel_reader: 5 question(s) changed")
    assert all(qa_id in warning for qa_id in CHANGED)

    fresh = run_model(VoxelReader(), after, images, {}, checkpoint=tmp_path / "fresh.jsonl",
                      progress=False)
    assert _accuracy(after, resumed) == _accuracy(after, fresh) == (1.0, 11)
    assert [p["prediction"] for p in resumed] == [p["prediction"] for p in fresh]


def test_a_question_moved_to_another_volume_is_asked_again(tmp_path, images):
    rows = [{"qa_id": "q1", "image_path": "a.nii.gz", "question": "Is the bright voxel in the "
             "left half?", "answer": "Yes"}]
    checkpoint = tmp_path / "ck.jsonl"
    run_model(VoxelReader(), normalise_qa_items(rows), images, {}, checkpoint=checkpoint,
              progress=False)
    moved = normalise_qa_items([{**rows[0], "image_path": "b.nii.gz", "answer": "No"}])
    rerun = VoxelReader()
    [prediction] = run_model(rerun, moved, images, {}, checkpoint=checkpoint, progress=False)
    assert rerun.asked == ["q1"] and prediction["prediction"] == "No"  # b's voxel is on the right


def test_a_question_on_a_changed_volume_content_is_asked_again(tmp_path, images):
    """The same file name, other content: the question's fingerprint holds the volume's."""
    qa = _qa({"a": ["left"]})
    checkpoint = tmp_path / "ck.jsonl"
    run_model(VoxelReader(), [{**qa[0], "volume_fingerprint": "v1"}], images, {},
              checkpoint=checkpoint, progress=False)
    same, changed = VoxelReader(), VoxelReader()
    run_model(same, [{**qa[0], "volume_fingerprint": "v1"}], images, {}, checkpoint=checkpoint,
              progress=False)
    run_model(changed, [{**qa[0], "volume_fingerprint": "v2"}], images, {},
              checkpoint=checkpoint, progress=False)
    assert (same.asked, changed.asked) == ([], ["a.nii.gz::0"])


def test_white_space_alone_is_not_a_change(tmp_path, images):
    qa = _qa({"a": ["left"]})
    checkpoint = tmp_path / "ck.jsonl"
    run_model(VoxelReader(), qa, images, {}, checkpoint=checkpoint, progress=False)
    respaced = [{**qa[0], "question": "  Is the bright  voxel in the left\thalf? "}]
    rerun = VoxelReader()
    run_model(rerun, respaced, images, {}, checkpoint=checkpoint, progress=False)
    assert rerun.asked == []


def test_stale_predictions_are_listed_and_left_out_of_judging_and_metrics(images, caplog):
    """Predictions of the old QA set meet the new one (a judging run without a rerun of
    inference): the removed item and the changed ones are left out, never scored."""
    old = run_model(VoxelReader(), _qa(BEFORE), images, {}, progress=False)
    after = _qa(AFTER)
    with caplog.at_level(logging.WARNING):
        kept = current_predictions(after, old, "judging")
    assert {p["qa_id"] for p in kept} == {q["qa_id"] for q in after} - CHANGED
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "1 prediction(s) answer qa_ids no longer in the QA set" in messages
    assert "voxel_reader/a.nii.gz::3" in messages
    assert "5 prediction(s) answer questions that changed" in messages
    accuracy, judged = _accuracy(after, kept)
    assert (accuracy, judged) == (1.0, 6)  # the six unchanged items, all right; none stale


def test_an_old_prediction_without_a_fingerprint_is_matched_only_by_its_question(images):
    """Files written before fingerprints: trusted only where the prompt recorded beside the
    answer holds the question as the QA set asks it now."""
    old = run_model(VoxelReader(template="<image> {question} Answer:"), _qa(BEFORE), images, {},
                    progress=False)
    legacy = [{k: v for k, v in p.items() if k not in ("question_fingerprint",
                                                         "volume_fingerprint")} for p in old]
    kept = current_predictions(_qa(AFTER), legacy, "judging")
    assert {p["qa_id"] for p in kept} == {q["qa_id"] for q in _qa(AFTER)} - CHANGED
