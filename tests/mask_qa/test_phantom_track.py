"""The mask track on the sanity phantoms, against the templated questions' exact answers."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from ct_spatial_bench.mask_qa.questions import FAMILIES
from ct_spatial_bench.mask_qa.scoring import score_predictions
from ct_spatial_bench.mask_qa.tables import load_label_table
from ct_spatial_bench.mask_qa.track import (
    maps_by_volume, phantom_prior_questions, split_questions,
)
from ct_spatial_bench.records import Prediction
from ct_spatial_bench.spatial.categories import CATEGORIES
from ct_spatial_bench.synthetic import generate_sanity_split

SEED = 20261122  # conf/base/parameters_sanity_data.yml


@pytest.fixture(scope="module")
def split():
    return generate_sanity_split(n_cases=10, seed=SEED)


def _questions(split, balanced: bool, leak_free: bool = True):
    loaders = {key: (lambda image=image: image) for key, image in split.label_maps.items()}
    volumes = [{"case_id": f"{k}.nii.gz", "image_path": f"{k}.nii.gz", "key": k}
               for k in split.volumes]
    return split_questions(volumes, maps_by_volume(loaders), load_label_table("phantom"), {},
                           balanced=balanced, leak_free=leak_free)


@pytest.fixture(scope="module")
def balanced(split):
    return _questions(split, balanced=True)


@pytest.fixture(scope="module")
def unbalanced(split):
    """Every candidate the rules allow, before leak removal and balancing."""
    return _questions(split, balanced=False, leak_free=False)


def _template_answers(split):
    """(case_id, template id) -> the templated question's answer."""
    return {(q["case_id"], q["meta"]["template"]): q["answer"] for q in split.qa_candidates}


def _findings(split, kind):
    kinds = ("nodule", "mass") if kind == "nodule" else (kind,)
    return {f["case_id"]: f for f in split.findings if f["kind"] in kinds}


def _positive(items, family, subject, reference=None):
    return {i["case_id"]: i for i in items if i["family"] == family
            and i["meta"].get("polarity", "positive") == "positive"
            and i["meta"]["subject"] == subject and not i["meta"]["mirrored"]
            and (reference is None or i["meta"]["reference"] == reference)}


@pytest.mark.slow
def test_label_maps_are_written_beside_every_volume_in_its_orientation(split):
    import nibabel as nib

    for key, volume in split.volumes.items():
        for name in ("tissues", "lobes", "findings"):
            image = split.label_maps[f"{key}/{name}"]
            assert image.shape == volume.shape
            assert nib.aff2axcodes(image.affine) == nib.aff2axcodes(volume.affine)


@pytest.mark.slow
def test_laterality_and_carina_level_equal_the_templates_answers(split, unbalanced):
    unbalanced, skips = unbalanced
    nodules = _findings(split, "nodule")
    side = _positive(unbalanced, "laterality", "nodule")
    level = _positive(unbalanced, "longitudinal_order", "nodule", "carina")
    # a nodule whose extent reaches within 5 mm of the carina's level is not asked
    straddles = {s["case_id"] for s in skips if s["subject"] == "nodule"
                 and s["reference"] == "carina" and s["reason"] == "extents not apart"}
    assert set(side) == set(nodules) and set(level) | straddles == set(nodules)
    assert len(level) >= 5
    for case_id, finding in nodules.items():
        # "Is the nodule on the patient's right side?" against the template's side of the lung
        assert side[case_id]["answer"] == ("Yes" if finding["side"] == "Right" else "No")
        # "Is the nodule above the level of the carina?" against the template's level
        if case_id in level:
            assert level[case_id]["answer"] == ("Yes" if finding["level_vs_carina"] == "Above"
                                                else "No")
    nodes = _findings(split, "lymph_node")
    node_level = _positive(unbalanced, "longitudinal_order", "lymph_node", "carina")
    # a node reaching within 5 mm of the carina's level is not asked, and counted as skipped
    near = {s["case_id"] for s in skips if s["subject"] == "lymph_node"
            and s["reference"] == "carina" and s["reason"] == "extents not apart"}
    assert set(node_level) | near == set(nodes) and len(node_level) >= 2
    for case_id in set(nodes) - near:
        assert node_level[case_id]["answer"] == (
            "Yes" if nodes[case_id]["level_vs_carina"] == "Above" else "No")
    effusions = {c: f for c, f in _findings(split, "pleural_effusion").items()
                 if f["side"] != "Bilateral"}
    effusion_side = _positive(unbalanced, "laterality", "pleural_effusion")
    for case_id, finding in effusions.items():
        assert effusion_side[case_id]["answer"] == ("Yes" if finding["side"] == "Right" else "No")


@pytest.mark.slow
def test_containment_extent_and_size_equal_the_templates_answers(split, unbalanced):
    unbalanced = unbalanced[0]
    lobe_key = {"Right upper lobe": "lung_upper_lobe_right",
                "Right middle lobe": "lung_middle_lobe_right",
                "Right lower lobe": "lung_lower_lobe_right",
                "Left upper lobe": "lung_upper_lobe_left",
                "Left lower lobe": "lung_lower_lobe_left"}
    for case_id, finding in _findings(split, "nodule").items():
        inside = [i for i in unbalanced if i["case_id"] == case_id
                  and i["family"] == "containment" and i["meta"]["subject"] == "nodule"
                  and i["meta"]["polarity"] == "positive" and i["answer"] == "Yes"]
        assert [i["meta"]["reference"] for i in inside] == [lobe_key[finding["lobes"][0]]]
        diameter = _positive(unbalanced, "largest_diameter", "nodule")[case_id]
        # nearest centimetre, as the template words it (issue: computed answer = template's)
        assert int(float(diameter["answer"]) / 10.0 + 0.5) == finding["size_cm"]
    spanned = _positive(unbalanced, "lobes_spanned", "consolidation")
    for case_id, finding in _findings(split, "consolidation").items():
        assert int(spanned[case_id]["answer"]) == len(finding["lobes"])
        crosses = _template_answers(split)[(case_id, "consolidation_crosses_fissure")]
        assert (int(spanned[case_id]["answer"]) > 1) == (crosses == "Yes")


@pytest.mark.slow
def test_the_split_keeps_250_questions_of_every_category(balanced):
    # Issue 24's goal, counted as the docs count (questions asked + their mirrored twins): the
    # phantoms' three or four findings a case, placed on both sides and at both levels
    # (synthetic/phantom.py), leave that many relations that pass the clinical rules and vary
    # from case to case (balancing keeps only those).
    items, skips = balanced
    asked = [i for i in items if not i["meta"]["mirrored"]]
    assert len(items) >= 250 and len(asked) >= 200
    assert len({i["case_id"] for i in asked}) == 10
    assert set(Counter(c for i in asked for c in i["categories"])) == set(CATEGORIES)
    assert set(Counter(i["family"] for i in asked)) == set(FAMILIES)  # every family is asked
    for item in asked:
        assert {"qa_id", "question", "answer", "answer_type", "categories", "family",
                "measurement"} <= set(item)
        assert item["answer_type"] in ("closed", "number")
    assert len({i["qa_id"] for i in items}) == len(items)
    reasons = Counter(s["reason"] for s in skips)
    assert reasons["margin"] > 0 and reasons["unbalanced"] > 0
    twins = [i for i in items if i["meta"]["mirrored"]]
    assert len(twins) == sum(i["family"] == "laterality" for i in asked)


@pytest.mark.slow
def test_no_answer_follows_from_the_cases_other_questions(balanced, unbalanced):
    from ct_spatial_bench.mask_qa.leaks import leaks

    assert leaks(balanced[0]) == []
    assert len(leaks(unbalanced[0])) > 20  # what leak removal took out


@pytest.mark.slow
def test_clinical_rules_hold_on_every_question(split, balanced, unbalanced):
    for items in (balanced[0], unbalanced[0]):
        for i in items:
            meas, meta = i["measurement"], i["meta"]
            if i["family"] in ("longitudinal_order", "depth_order"):
                # one extent wholly beyond the other by 5 mm; never a lobe; never above or
                # below the column that spans the scan from apex to base
                gap = meas.get("separation_mm", meas.get("above_mm"))
                assert abs(gap) >= 5.0 or meas.get("below_mm", 0) >= 5.0
                assert not meta["reference"].startswith("lung_")
                if i["family"] == "longitudinal_order":
                    assert "spine" not in (meta["reference"], meta["subject"])
            if i["family"] == "medial_lateral_order":
                nearest = meas["subject_nearest_mm"] - meas["reference_nearest_mm"]
                assert nearest * meas["difference_mm"] > 0  # centroid and nearest point agree
                assert min(abs(nearest), abs(meas["difference_mm"])) >= 5.0
            if i["family"] == "size_comparison":
                assert max(meas["ratio"], 1 / meas["ratio"]) >= 1.5
            if i["family"] in ("lobes_spanned", "largest_diameter"):
                assert meta["subject"] != "pleural_effusion"
    # the bilateral effusion (the generator's truth) is asked "on both sides?" and nothing else
    bilateral = {c for c, f in _findings(split, "pleural_effusion").items()
                 if f["side"] == "Bilateral"}
    assert bilateral
    for i in unbalanced[0]:
        if i["case_id"] in bilateral and "pleural_effusion" in (i["meta"]["subject"],
                                                                 i["meta"]["reference"]):
            assert i["family"] == "bilaterality"
    both = [i for i in unbalanced[0] if i["family"] == "bilaterality"
            and i["meta"]["polarity"] == "positive"]
    assert {i["case_id"] for i in both if i["answer"] == "Yes"} == bilateral
    effusions = set(_findings(split, "pleural_effusion"))
    assert {i["case_id"] for i in both if i["answer"] == "No"} == effusions - bilateral


@pytest.mark.slow
def test_closed_answers_are_balanced_per_question_text(balanced):
    per_text = Counter()
    for item in balanced[0]:
        if item["answer_type"] == "closed" and not item["meta"]["mirrored"]:
            per_text[item["question"]] += 1 if item["answer"] == "Yes" else -1
    assert per_text and all(v == 0 for v in per_text.values())


@pytest.mark.slow
def test_reference_answers_score_one_and_the_blind_prior_sits_at_chance(balanced):
    from ct_spatial_bench.models.base import Question
    from ct_spatial_bench.baselines.blind import BlindBaseline

    items = balanced[0]
    reference = [Prediction(i.qa_id, "reference", i.answer) for i in items]
    assert {r["score"] for r in score_predictions(items, reference, "reference")} == {1.0}

    blind = BlindBaseline()
    prior = phantom_prior_questions(10, 10, load_label_table("phantom"), {}, seed=SEED)
    blind.load({"answer_prior": prior})
    paired = [i for i in items if i["meta"]["pair_id"] and not i["meta"]["mirrored"]]
    answers = [a.text for a in blind.answer_volume(None, [Question(i["qa_id"], i["question"])
                                                          for i in paired])]
    predictions = [Prediction(i.qa_id, "blind", a) for i, a in zip(paired, answers)]
    scores = [r["score"] for r in score_predictions(paired, predictions, "blind")]
    assert abs(sum(scores) / len(scores) - 0.5) <= 0.1


# Every kept answer recomputed from the label maps with numpy and scipy alone, by the rules'
# plain-words definitions (docs/mask-track.md), with the generator's own codes (anatomy.py,
# label_maps.py) rather than the mask track's table and measuring code.
def _hand_codes():
    from ct_spatial_bench.synthetic import anatomy as A
    from ct_spatial_bench.synthetic.label_maps import FINDING_CODES, KIDNEY_LEFT

    tissue = {"heart": [A.HEART], "aorta": [A.AORTA], "trachea": [A.TRACHEA],
              "spine": [A.BONE_CANCELLOUS, A.BONE_CORTICAL], "liver": [A.LIVER],
              "spleen": [A.SPLEEN], "kidney_right": [A.KIDNEY], "kidney_left": [KIDNEY_LEFT]}
    finding = {"nodule": A.NODULE, "consolidation": A.CONSOLIDATION,
               "pleural_effusion": A.EFFUSION, "lymph_node": A.LYMPH_NODE}
    lobes = {"lung_upper_lobe_right": 1, "lung_middle_lobe_right": 2,
             "lung_lower_lobe_right": 3, "lung_upper_lobe_left": 4, "lung_lower_lobe_left": 5}
    codes = {k: ("tissues", v) for k, v in tissue.items()}
    codes.update({k: ("findings", [FINDING_CODES[v]]) for k, v in finding.items()})
    codes.update({k: ("lobes", [v]) for k, v in lobes.items()})
    return codes


class _HandCase:
    def __init__(self, split, key):
        import nibabel as nib

        self.images = {m: split.label_maps[f"{key}/{m}"] for m in ("tissues", "lobes",
                                                                     "findings")}
        self.arrays = {m: np.asarray(i.dataobj) for m, i in self.images.items()}
        self.apply = nib.affines.apply_affine
        self.codes = _hand_codes()
        self.midline = float(self.points("spine")[:, 0].mean())

    def voxels(self, key):
        base, _, side = key.rpartition("_")
        if key not in self.codes and side in ("right", "left"):  # one side's piece
            ijk = self.voxels(base)
            x = self.apply(self.images["tissues"].affine, ijk)[:, 0]
            return ijk[(x > self.midline) == (side == "right")]
        name, values = self.codes[key]
        return np.argwhere(np.isin(self.arrays[name], values))

    def points(self, key):
        return self.apply(self.images["tissues"].affine, self.voxels(key))


def _hand_truth(case, item):
    """The positive question's answer, True/False, or a number, from the maps by hand."""
    from scipy.spatial import cKDTree

    family, meta = item["family"], item["meta"]
    a = case.points(meta["subject"])
    if family == "laterality":
        share = float((a[:, 0] > case.midline).mean())
        assert share >= 0.95 or share <= 0.05
        return share >= 0.95
    if family == "bilaterality":
        share = float((a[:, 0] > case.midline).mean())
        return 0.05 <= share <= 0.95
    if family == "containment":
        lobe_of = case.arrays["lobes"][tuple(case.voxels(meta["subject"]).T)]
        share = float((lobe_of == case.codes[meta["reference"]][1][0]).sum()
                      / (lobe_of > 0).sum())
        assert share >= 0.9 or share <= 0.1
        return share >= 0.9
    if family == "lobes_spanned":
        lobe_of = case.arrays["lobes"][tuple(case.voxels(meta["subject"]).T)]
        shares = np.bincount(lobe_of[lobe_of > 0], minlength=6)[1:] / (lobe_of > 0).sum()
        assert np.all(np.abs(shares - 0.15) >= 0.05)
        return int((shares >= 0.15).sum())
    if family == "largest_diameter":
        from scipy.spatial import ConvexHull

        hull = a[ConvexHull(a).vertices]  # plus one voxel of the finest spacing (1.5 mm)
        return float(np.max(np.linalg.norm(hull[:, None] - hull[None], axis=-1))) + 1.5
    if meta["reference"] == "carina":  # the lowest point of the trachea
        carina = float(case.points("trachea")[:, 2].min())
        assert a[:, 2].min() - carina >= 5.0 or carina - a[:, 2].max() >= 5.0
        return a[:, 2].min() > carina
    b = case.points(meta["reference"])
    if family in ("longitudinal_order", "depth_order"):
        axis = 2 if family == "longitudinal_order" else 1
        above, below = a[:, axis].min() - b[:, axis].max(), b[:, axis].min() - a[:, axis].max()
        assert max(above, below) >= 5.0  # one extent wholly beyond the other by 5 mm
        return above > 0
    if family == "medial_lateral_order":
        def nearest(p):
            x = p[:, 0] - case.midline
            return 0.0 if x.min() <= 0 <= x.max() else float(np.abs(x).min())
        da, db = (abs(float(p[:, 0].mean()) - case.midline) for p in (a, b))
        na, nb = nearest(a), nearest(b)
        assert abs(da - db) >= 5.0 and abs(na - nb) >= 5.0 and (da - db) * (na - nb) > 0
        return da < db
    if family == "adjacency":
        # the nearest point of b within 10 mm of a lies in a's box padded by 10 mm
        near = b[np.all((b >= a.min(axis=0) - 10.0) & (b <= a.max(axis=0) + 10.0), axis=1)]
        gap = float(cKDTree(near).query(a)[0].min()) if len(near) else np.inf
        assert abs(gap - 5.0) >= 2.0
        return gap < 5.0
    if family == "size_comparison":
        ratio = len(a) / len(b)
        assert max(ratio, 1 / ratio) >= 1.5
        return ratio > 1.0
    raise AssertionError(f"no hand rule for {family}")


@pytest.mark.slow
def test_every_kept_answer_is_recomputed_by_hand_from_the_label_maps(split, balanced):
    cases = {}
    checked = Counter()
    for item in balanced[0]:
        if item["meta"]["mirrored"]:
            continue
        key = item["case_id"].removesuffix(".nii.gz")
        case = cases.setdefault(key, _HandCase(split, key))
        truth = _hand_truth(case, item)
        if item["answer_type"] == "number":
            if item["family"] == "largest_diameter":
                assert abs(float(item["answer"]) - truth) <= 0.1, item["qa_id"]
            else:
                assert int(item["answer"]) == truth, item["qa_id"]
        else:
            positive = item["meta"]["polarity"] == "positive"
            assert item["answer"] == ("Yes" if truth == positive else "No"), item["qa_id"]
        checked[item["family"]] += 1
    assert set(checked) == set(FAMILIES), checked
