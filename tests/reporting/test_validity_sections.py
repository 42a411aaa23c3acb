"""The report's sections on what the jury figure measures."""

from ct_spatial_bench.reporting.validity import validity_sections


def test_sections_show_each_table_given_and_the_design_effect_by_hand():
    accuracy = [{"model": "m", "accuracy": 0.5, "accuracy_ci_low": 0.4, "accuracy_ci_high": 0.6,
                 "accuracy_ci_low_items": 0.45, "accuracy_ci_high_items": 0.55}]
    length = [{"model": "m", "answer_words_mean": 3.0, "answer_words_median": 2.0,
               "reference_words_median": 4.0, "accuracy": 0.5, "accuracy_length_standardised": 0.6,
               "accuracy_length_standardised_ci_low": 0.55,
               "accuracy_length_standardised_ci_high": 0.65, "share_near_reference": 0.4,
               "log_odds_per_doubling": -0.2, "log_odds_per_doubling_ci_low": -0.3,
               "log_odds_per_doubling_ci_high": -0.1, "n_boot": 200}]
    bins = [{"model": "m", "length_bin": "1-2", "n": 3, "accuracy": 0.5, "words_mean": 1.5}]
    subsets = [{"model": "m", "subset": "all", "n": 10, "accuracy": 0.5, "accuracy_ci_low": 0.3,
                "accuracy_ci_high": 0.7},
               {"model": "m", "subset": "needs_image", "n": 4, "accuracy": 0.25,
                "accuracy_ci_low": 0.0, "accuracy_ci_high": 0.5}]
    domain = [{"model": "m", "words_mean": 80.0, "train_words_low": 1.0,
               "train_words_high": 44.0, "share_outside": 0.9, "flagged": True}]
    sections, figures = validity_sections(
        {"length": length, "length_bins": bins, "subsets": subsets, "offline_domain": domain},
        accuracy, n_volumes=12)
    assert list(figures) == ["Accuracy by answer length"]
    assert "Spatial-slot score" not in sections  # no slot rows given
    design = sections["Intervals clustered by volume (design effect)"]
    # widths 0.2 against 0.1: ratio 2, design effect 4
    assert "<td>2.000</td><td>4.000</td>" in design and "Only 12 volumes" in design
    assert "0.250 [0.000, 0.500]" in sections[
        "Items that need the image, items reviewers rejected"]
    assert "1-44 words" in sections["The offline judge's domain"]
    length_section = sections["Answer length and jury accuracy"]
    assert "0.600 [0.550, 0.650]" in length_section  # standardised accuracy with its interval
    assert "-0.200 [-0.300, -0.100]" in length_section  # the model's own slope with its interval
