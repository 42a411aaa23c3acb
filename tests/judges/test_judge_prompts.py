import pytest

from ct_spatial_bench.judges.prompts import (BATCH_PROMPT, DEFAULT_PROMPT, YES_NO_PROMPT,
                                             load_prompt)


def test_default_prompt_is_the_structured_radiologist():
    """Issue 21: the radiologist prompt asks for the verdict schema."""
    prompt = load_prompt()
    assert prompt.name == DEFAULT_PROMPT and prompt.kind == "structured"
    assert prompt.version.startswith("radiologist_structured_v1@")
    assert prompt.schema["properties"]["verdict"]["enum"] == ["correct", "incorrect",
                                                              "cannot_judge"]
    system, user = prompt.render_single("Which side?", "left", "right")
    assert "Reference answer: left\nPrediction: right" in user and '"verdict"' in user


def test_the_yes_no_prompt_is_still_offered():
    prompt = load_prompt(YES_NO_PROMPT)
    assert prompt.kind == "single" and prompt.schema is None
    assert prompt.version.startswith("radiologist_yes_no_v1@")
    system, user = prompt.render_single("Which side?", "left", "right")
    assert "radiologist" in system.lower()
    assert "Reference answer: left\nPrediction: right" in user and "YES or NO" in user


def test_batch_prompt_numbers_items_from_one():
    prompt = load_prompt(BATCH_PROMPT)
    assert prompt.kind == "batch" and prompt.batch_size == 10
    _, user = prompt.render_batch([("q1", "a1", "p1"), ("q2", "a2", "p2")])
    assert "[1]\nQuestion: q1" in user and "[2]\nQuestion: q2" in user
    assert '"index"' in user  # literal braces of the JSON example survive formatting
    assert prompt.max_output(2) == 2 * prompt.max_output_tokens


def test_version_follows_the_text(tmp_path):
    text = ("version: mine_v1\nkind: single\nsystem: s\n"
            "template: 'Q {question} A {answer} P {prediction}'\n")
    (tmp_path / "mine.yml").write_text(text)
    first = load_prompt("mine", tmp_path).version
    (tmp_path / "mine.yml").write_text(text.replace("Q {question}", "Question {question}"))
    assert load_prompt("mine", tmp_path).version != first  # same declared version, new text


def test_missing_or_malformed_prompt_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        load_prompt("nope", tmp_path)
    (tmp_path / "bad.yml").write_text("version: v\nkind: batch\nsystem: s\ntemplate: t\n")
    with pytest.raises(ValueError, match="bad.yml.*item_template"):
        load_prompt("bad", tmp_path)
