from ct_spatial_bench.curation.templated import spatial_statements, templated_qa_pairs

REPORT = (
    "Findings: A 6 mm nodule is seen in the right upper lobe. No pleural effusion. "
    "Subpleural ground-glass opacities in both lower lobes. Heart size is normal. "
    "Nodules are observed in the upper lobe and lower lobe of the right lung."
)


def _by_question(pairs):
    return {p["question"]: p["answer"] for p in pairs}


def test_spatial_statements_skip_negated_and_unplaced_sentences():
    sentences = [s for s, _, _ in spatial_statements(REPORT)]
    assert any("right upper lobe" in s for s in sentences)
    assert not any("No pleural effusion" in s for s in sentences)
    assert not any("Heart size" in s for s in sentences)


def test_templates_ask_where_and_each_fixed_axis():
    qa = _by_question(templated_qa_pairs(REPORT))
    assert qa["Where is the nodule located?"] == "A 6 mm nodule is seen in the right upper lobe."
    assert qa["In which lobe is the nodule located?"] == "In the right upper lobe."
    assert qa["On which side is the nodule?"] == "Right."
    opacities = "the ground-glass opacities"
    assert qa[f"In which lobe are {opacities} located?"] == \
        "In the right lower lobe and left lower lobe."
    assert qa[f"On which side are {opacities}?"] == "Both sides (bilateral)."
    assert qa[f"Are {opacities} central or peripheral?"] == "Peripheral (subpleural)."


def test_a_lobe_answer_is_not_given_when_the_statement_names_more_lobes_than_read():
    qa = _by_question(templated_qa_pairs(REPORT))
    # "upper lobe and lower lobe of the right lung": the side is sure, the lobes are not read whole
    assert qa["On which side are the nodules?"] == "Right."
    assert "In which lobe are the nodules located?" not in qa


def test_pairs_are_capped_and_a_report_without_statements_yields_none():
    assert len(templated_qa_pairs(REPORT, max_pairs=3)) == 3
    assert templated_qa_pairs("No acute abnormality. The lungs are clear.") == []
