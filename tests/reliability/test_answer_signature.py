"""A checkpointed answer is reused only for the same prompt template, and one model's failed
item never removes that item for another model.

Both are "tests that bite": each fails on a small deliberate bug that today's other tests let
through (the prompt template left out of the checkpoint signature; an errored prediction keyed
by its qa_id alone).
"""

from __future__ import annotations

from identity_helpers import VoxelReader, loader, qa_rows, volume

from ct_spatial_bench.judges.jury import jury_decision_rows
from ct_spatial_bench.judges.registry import create_judge
from ct_spatial_bench.judges.engine import judge_predictions
from ct_spatial_bench.metrics.accuracy import accuracy_by_category, accuracy_by_model
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.records import decisions_by_item, normalise_qa_items

VOXEL = (0, 0, 0)


def _qa():
    return normalise_qa_items(qa_rows({"a": (VOXEL, ["left", "upper"])}))


def test_a_changed_prompt_template_asks_every_question_again(tmp_path):
    images = loader({"a": volume(VOXEL)})
    checkpoint = tmp_path / "ck.jsonl"
    run_model(VoxelReader("{question}"), _qa(), images, {}, checkpoint=checkpoint,
              progress=False)
    same = VoxelReader("{question}")
    run_model(same, _qa(), images, {}, checkpoint=checkpoint, progress=False)
    reworded = VoxelReader("<image>\n{question} Answer yes or no.")
    answers = run_model(reworded, _qa(), images, {}, checkpoint=checkpoint, progress=False)
    assert same.asked == []
    assert reworded.asked == ["a.nii.gz::0", "a.nii.gz::1"]
    assert answers[0]["prompt"] == \
        "<image>\nIs the bright voxel in the left half? Answer yes or no."


def test_each_adapter_family_names_its_template():
    """The template each family builds its prompts from is what the signature holds: the
    question's place is marked, and a configured template is the one reported."""
    from ct_spatial_bench.models.base import QUESTION_SLOT
    from ct_spatial_bench.inference.blind_control import BlindControl
    from ct_spatial_bench.models.adapters.m3d import M3DLaMed
    from ct_spatial_bench.models.adapters.radfm import RadFM

    m3d = M3DLaMed.__new__(M3DLaMed)
    m3d.model = None  # not loaded: the projector's default token count
    assert QUESTION_SLOT in m3d.prompt_template() and "<im_patch>" in m3d.prompt_template()
    radfm = RadFM.__new__(RadFM)
    assert radfm.prompt_template().endswith(QUESTION_SLOT) and "<image>" in radfm.prompt_template()
    reader = VoxelReader("Q: {question}")
    assert BlindControl(reader, "zero").prompt_template() == "Q: {question}"


def _predictions(model, answers):
    return [{"qa_id": qa_id, "model": model, "prediction": text or "", "prompt": "",
             "status": "ok" if text is not None else "error",
             "error": None if text is not None else "CUDA out of memory",
             "error_kind": None if text is not None else "infrastructure"}
            for qa_id, text in answers.items()]


def test_one_models_error_leaves_the_item_to_every_other_model():
    """Model m1 failed on the first item; m2 answered it. m2's accuracy counts that item (2 of
    2 right), m1's counts one error and one judged item; so do the category rows."""
    qa = [{**item, "categories": ["Laterality & Bilateral Symmetry"]} for item in _qa()]
    ids = [item["qa_id"] for item in qa]
    predictions = [*_predictions("m1", {ids[0]: None, ids[1]: "Yes"}),
                   *_predictions("m2", {ids[0]: "Yes", ids[1]: "Yes"})]
    verdicts = judge_predictions([create_judge("rule")], qa, predictions, progress=False)
    by_key = {(v["model"], v["qa_id"]): v["verdict"] for v in verdicts}
    assert by_key == {("m1", ids[0]): "failed", ("m1", ids[1]): "correct",
                      ("m2", ids[0]): "correct", ("m2", ids[1]): "correct"}
    decisions = decisions_by_item(jury_decision_rows(verdicts, rule="majority"))
    rows = {r["model"]: r for r in accuracy_by_model(qa, predictions, decisions, n_boot=10)}
    assert (rows["m2"]["n_judged"], rows["m2"]["n_correct"], rows["m2"]["n_errors"]) == (2, 2, 0)
    assert (rows["m1"]["n_judged"], rows["m1"]["n_correct"], rows["m1"]["n_errors"]) == (1, 1, 1)
    laterality = {r["model"]: r for r in accuracy_by_category(qa, decisions, predictions,
                                                              n_boot=10)
                  if r["category"] == "Laterality & Bilateral Symmetry"}
    assert (laterality["m2"]["n"], laterality["m2"]["n_errors"]) == (2, 0)
    assert (laterality["m1"]["n"], laterality["m1"]["n_errors"]) == (1, 1)
