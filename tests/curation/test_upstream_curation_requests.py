"""Curation in upstream's form sends what upstream's scripts send, request for request.

Expected requests are built here from CT-SpatialVQA's scripts (github.com/Mashrafi27/CT-SpatialVQA
at e25374cc515975ab816aca3d425f893e689a6db3): QA_generation/qa_generation.py (BASE_PROMPT and
generate_spatial_QA), QA_generation/llm_judge.py (PROMPT_TEMPLATE, build_prompt,
GENERATION_CONFIG) and benchmarking/eval_scripts/spatial_categories/get_qa_pairs_categories.py
(PROMPT_TEMPLATE), their text re-typed as the scripts write it. What the real SDKs send to the
fake server on 127.0.0.1 must equal them (Gemini: its REST body; upstream's SDK spoke gRPC, the
content is what is compared).
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from support.fake_llm_server import GOOD_KEY, FakeLLMServer

# qa_generation.py: BASE_PROMPT (two lines end in a space) and the report it appends
BASE_PROMPT = (
    "\nYou are a medical AI assistant specialized in radiology and 3D spatial reasoning.\n\n"
    "Read the 3D CT scan report below and generate 7\u201310 question\u2013answer (QA) pairs \n"
    "that test a vision\u2013language model\u2019s understanding of spatial and anatomical "
    "relationships \n"
    "explicitly described in the report.\n\n"
    "Focus only on spatial facts such as:\n"
    "- Laterality (right vs. left, unilateral vs. bilateral)\n"
    "- Vertical position (upper/lower, superior/inferior)\n"
    "- Anterior\u2013posterior relations\n"
    "- Medial\u2013lateral orientation (central/peripheral/midline)\n"
    "- Spatial extent or boundaries (confined to, crossing midline, extending into)\n"
    "- Adjacency or containment (within, posterior to, adjacent to)\n\n"
    "Guidelines:\n"
    "- Use only information from the Findings and Impressions sections.\n"
    "- Do not include diagnostic, interpretive, or normality statements.\n"
    "- Questions must emphasize *where*, *which side*, *above/below*, or *extent*.\n"
    "- Answers must be strictly factual and directly derived from the report.\n\n"
    "Output as a valid JSON list:\n"
    "[\n"
    '  {"question": "...", "answer": "..."},\n'
    "  ...\n"
    "]\n"
)


def generation_prompt(findings: str, impressions: str) -> str:
    return (BASE_PROMPT
            + f"\n\nHere is the 3D CT Scan Report:\n**Findings:** {findings}\n**Impressions:** "
              f"{impressions}")


# llm_judge.py: PROMPT_TEMPLATE and build_prompt
FILTER_TEMPLATE = """You are a radiology QA auditor.
You receive radiology Findings / Impressions plus QA pairs created from them.
Label each QA pair with two booleans:
- is_spatial: true only if answering the question requires spatial reasoning about anatomical location, orientation, relative position, or laterality visible in the image (e.g., which lung, which lobe, proximity, direction, comparison of organ sizes, location of effusion). Pure presence/absence or textual metadata questions are false.
- is_relevant: true only if the question could be answered from the imaging-derived Findings/Impressions (not from general knowledge or the wording of the text itself). Questions that just ask which words appear in the report, cite textual phrases, or hallucinate unseen details are false.

Respond strictly as JSON with the schema:
[
  {{
    "index": <QA index starting at 1 in this batch>,
    "is_spatial": true/false,
    "is_relevant": true/false
  }}, ...
]
Avoid additional narration. Return ONLY the JSON list, no extra text.

Case ID: {case_id}
Findings: {findings}
Impressions: {impressions}
QA pairs:
{qa_block}
"""  # noqa: E501 - upstream's lines, as they are


def filter_prompt(case_id, findings, impressions, batch):
    qa_lines = []
    for idx, qa in enumerate(batch, start=1):
        qa_lines.append(f"{idx}. Q: {qa['question']}\n   A: {qa['answer']}")
    qa_block = "\n".join(qa_lines)
    return FILTER_TEMPLATE.format(case_id=case_id, findings=findings or "(none provided)",
                                  impressions=impressions or "(none provided)",
                                  qa_block=qa_block)


# get_qa_pairs_categories.py: PROMPT_TEMPLATE
_RULE = "########################################################"
TAGGER_TEMPLATE = f"""
{_RULE}
Role:
You are an expert Medical AI Specialist specializing in anatomical spatial reasoning and radiology report analysis.

{_RULE}
Task:
Analyze the provided Question-Answer (QA) pair derived from a CT scan report. Assign one or more categories from the provided list based on the spatial logic required to answer the question or present in the answer.

{_RULE}
Question: {{question}}
Answer: {{answer}}

{_RULE}
Categories & Logic:

1. Laterality & Bilateral Symmetry: (Left, right, unilateral, bilateral, hemithorax).

2. Longitudinal (Vertical) Position: (Superior/inferior, upper/lower, apical/basal, or specific vertebral/rib levels).

3. Anterior-Posterior (Depth) Relations: (Anterior, posterior, retrosternal, ventral, dorsal).

4. Medial-Lateral Orientation (Centricity): (Midline, medial, lateral, central, peripheral, hilar, paratracheal).

5. Adjacency & Containment: (Adjacent to, around, neighborhood of, within an organ, intra-parenchymal).

6. Spatial Extent & Boundaries: (Extends to, crossing, confined to, diffuse, reaching a fissure).

{_RULE}
Instructions:
Evaluate both the Question and the Answer for spatial cues.
Return the result as a Python-formatted list of strings (use the exact category names above, e.g. "Laterality & Bilateral Symmetry").
If multiple categories apply, include all relevant ones.
Do not provide conversational filler; return only the list.

"""  # noqa: E501 - upstream's lines, as they are

# a CSV in the columns qa_generation.py reads; raw text (double space, "Not given.") kept
REPORTS = [
    {"file_name": "valid_1_a_1.nii.gz", "findings_en": "Nodule  in the right upper lobe.",
     "impressions_en": "Not given."},
    {"file_name": "valid_2_a_1.nii.gz", "findings_en": "Left pleural effusion {small}.",
     "impressions_en": "Effusion on the left."},
]
_GEN = re.compile(r"\*\*Findings:\*\* (.*)\n\*\*Impressions:\*\* (.*)\Z", re.DOTALL)
_FILTER_ITEM = re.compile(r"(\d+)\. Q: (.*)\n   A: (.*)")


def upstream_answer(user: str) -> tuple[str, str]:
    """Replies in upstream's forms: a JSON list of 7 pairs per report; the filter's list (in
    reverse order; 'presence' questions not spatial, 'wording' ones not relevant); the tagger's
    Python list."""
    report = _GEN.search(user)
    if report:
        pairs = [{"question": q, "answer": "Right."} for q in (
            "Which lobe has the nodule?", "Is there a presence of nodules?",
            "Which side is the effusion?", "Which wording does the report use for the lobe?",
            "Is the nodule anterior?", "Is the effusion basal?", "Where is the nodule?")]
        return report.group(1), json.dumps(pairs)
    items = _FILTER_ITEM.findall(user)
    if items:
        reply = [{"index": int(i), "is_spatial": "presence" not in q,
                  "is_relevant": "wording" not in q} for i, q, _ in items]
        return items[0][1], json.dumps(list(reversed(reply)))
    return "tagger", "```python\n['Laterality & Bilateral Symmetry', 'Adjacency & Containment']\n```"


@pytest.fixture
def server():
    fake = FakeLLMServer(answer=upstream_answer).start()
    yield fake
    fake.stop()


def _upstream_params(stage: str) -> dict:
    import yaml

    with open("conf/base/parameters_protocol.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["upstream_protocol"][stage]


def _aimed(llm: dict, server, provider: str) -> dict:
    return {**llm, "config": {**llm["config"], "api_key": GOOD_KEY,
                              "base_url": server.urls[provider], "backoff_base_s": 0.01,
                              "timeout_s": 5}}


def _generate(server, tmp_path):
    from ct_spatial_bench.pipelines.qa_generation.nodes import generate_candidate_qa

    path = tmp_path / "reports.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(REPORTS[0]))
        writer.writeheader()
        writer.writerows(REPORTS)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    upstream = _upstream_params("qa_generation")
    params = {"generator": "llm", "min_pairs": 7, "max_pairs": 10, **upstream,
              "cache_path": str(tmp_path / "gen.sqlite"),
              "llm": _aimed(upstream["llm"], server, "openai")}
    return generate_candidate_qa(rows, params, {})


def test_generation_sends_qa_generation_py_request(server, tmp_path, monkeypatch):
    monkeypatch.chdir(_root())
    items, log = _generate(server, tmp_path)

    expected = [{"model": "gpt-4o",
                 "messages": [{"role": "system", "content": "You are a precise radiology assistant."},
                              {"role": "user", "content": generation_prompt(
                                  r["findings_en"], r["impressions_en"])}],
                 "temperature": 0.2}  # and no token limit
                for r in REPORTS]
    sent = server.all_bodies["openai"]
    assert sorted(sent, key=json.dumps) == sorted(expected, key=json.dumps)
    assert {r["status"] for r in log} == {"ok"} and len(items) == 14
    assert items[0]["meta"]["report"] == {"findings": "Nodule  in the right upper lobe.",
                                          "impressions": "Not given."}


def test_filter_and_tagger_send_llm_judge_and_category_requests(server, tmp_path, monkeypatch):
    from ct_spatial_bench.curation.filtering import filter_as_configured

    monkeypatch.chdir(_root())
    candidates, _ = _generate(server, tmp_path)
    upstream = _upstream_params("qa_filtering")["llm"]
    settings = {"spatial_filter": "llm", "categories": "llm",
                "llm": {**_aimed(upstream, server, "gemini"),
                        "cache_path": str(tmp_path / "filter.sqlite")}}
    kept, decisions = filter_as_configured(candidates, settings, {})

    config = {"temperature": 0.0, "topP": 0.8, "topK": 40, "maxOutputTokens": 1024}
    filter_bodies, tagger_bodies = [], []
    for body in server.all_bodies["gemini"]:
        (filter_bodies if "generationConfig" in body else tagger_bodies).append(body)
    expected_filter = []
    for report in REPORTS:
        pairs = [c for c in candidates if c["case_id"] == report["file_name"]]
        for start in range(0, len(pairs), 5):  # 5 pairs a call, one case's
            prompt = filter_prompt(report["file_name"], report["findings_en"],
                                   report["impressions_en"], pairs[start:start + 5])
            expected_filter.append({"contents": [{"parts": [{"text": prompt}], "role": "user"}],
                                    "generationConfig": config})
    assert sorted(filter_bodies, key=json.dumps) == sorted(expected_filter, key=json.dumps)
    # dropped when either boolean is false, matched by index (the replies came reversed)
    assert sorted(c["question"] for c in kept[:5]) == sorted(
        q for q in {c["question"] for c in candidates[:7]} if "presence" not in q
        and "wording" not in q)
    assert len(kept) == 10
    by_id = {d["qa_id"]: d for d in decisions}
    assert by_id[candidates[1]["qa_id"]]["llm_is_spatial"] is False
    assert by_id[candidates[3]["qa_id"]]["llm_is_relevant"] is False

    # one pair a call; pairs whose prompts are identical (the two reports share questions here)
    # are asked once, where upstream asked each: the same request, paid once
    expected_tagger = {json.dumps({"contents": [{"parts": [{"text": TAGGER_TEMPLATE.format(
        question=k["question"], answer=k["answer"])}], "role": "user"}]}) for k in kept}
    assert sorted(map(json.dumps, tagger_bodies)) == sorted(expected_tagger)
    assert kept[0]["categories"] == ["Laterality & Bilateral Symmetry", "Adjacency & Containment"]


def _root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]
