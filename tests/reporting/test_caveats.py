"""The flip-augmentation caveat stands beside M3D's and Med3DVLM's category figures."""

from ct_spatial_bench.reporting.caveats import laterality_caveats


def test_flip_trained_models_carry_the_caveat_and_others_do_not():
    # each entry as the tables label it -> its model (a blind control's is the model it twins)
    caveats = laterality_caveats({"geometry": "geometry", "m3d": "m3d",
                                  "med3dvlm_blind": "med3dvlm", "medgemma": "medgemma",
                                  "unknown": "unknown"})
    [html] = caveats.values()
    assert "<b>m3d</b>" in html and "<b>med3dvlm_blind</b>" in html
    assert "RandFlip" in html and "medgemma" not in html and "geometry" not in html
    assert laterality_caveats({"geometry": "geometry", "blind": "blind"}) == {}
