"""Golden before/after (issue 22): every output of ``kedro run --pipelines
judging,metrics,reporting`` on fixed sanity inputs and of ``kedro run --pipelines reproduce`` on
a fixed upstream-format fixture equals the files the code wrote at c6b92f3, before the
restructuring, except fields added (new keys in records, new CSV columns), which are allowed
and listed.

The golden files under ``expected/`` come from that earlier code, not from the code under test;
``python tests/golden/regenerate.py`` rewrites them (its docstring says when that is legitimate).
Values that are the clock's (``latency_s``, timestamps) are compared for presence only, figures
by their pixels.
"""

from __future__ import annotations

import warnings

import pytest

import golden_stages as golden


def _check(run, name: str, tmp_path) -> None:
    folder = run(tmp_path)
    diffs, added = golden.differences(folder, golden.EXPECTED / name, tmp_path)
    if added:  # allowed, and reported in pytest's warnings summary: what the change added
        warnings.warn(f"{name}: {len(added)} fields added since the golden files (regenerate "
                      "to adopt them): " + ", ".join(added), stacklevel=2)
    assert not diffs, (f"{len(diffs)} differences from tests/golden/expected/{name} (regenerate "
                       "only for a deliberate change, see tests/golden/regenerate.py):\n"
                       + "\n".join(diffs[:60]))


@pytest.fixture
def wordnet():
    """The golden files hold METEOR: without WordNet the column is empty (sanity) or the run
    stops (reproduce requires it)."""
    from ct_spatial_bench.metrics.meteor import wordnet_available

    if not wordnet_available():
        pytest.skip("WordNet not installed (apt-get install wordnet-base wordnet-sense-index): "
                    "the golden files hold METEOR")


@pytest.mark.slow
def test_sanity_stages_write_what_they_wrote_before(tmp_path, wordnet):
    _check(golden.run_sanity, "sanity", tmp_path)


@pytest.mark.slow
def test_reproduce_writes_what_it_wrote_before(tmp_path, wordnet):
    _check(golden.run_reproduce, "reproduce", tmp_path)


def test_the_comparison_allows_added_fields_and_nothing_else():
    """The comparison itself, on hand-made records: an added key or column passes and is listed;
    a changed value, a lost key, a lost row fail."""
    expected = [{"model": "a", "accuracy": 0.5}, {"model": "b", "accuracy": 1.0}]
    added: list[str] = []
    assert golden.compare(expected, [{"model": "a", "accuracy": 0.5, "variant": None},
                                     {"model": "b", "accuracy": 1.0, "variant": None}],
                          "t", added) == []
    assert added == ["t[0].variant", "t[1].variant"]
    assert golden.compare(expected, [{"model": "a", "accuracy": 0.5},
                                     {"model": "b", "accuracy": 0.9}], "t", []) == [
        "t[1].accuracy: 0.9 != expected 1.0"]
    assert golden.compare(expected, [{"model": "a"}, {"model": "b", "accuracy": 1.0}],
                          "t", []) == ["t[0]: field 'accuracy' is gone"]
    assert golden.compare(expected, expected[:1], "t", []) == ["t: 1 rows/lines, expected 2"]
    # equal in Python, different in the file: a JSON value's type is part of the output
    assert golden.compare({"n": 1}, {"n": 1.0}, "t", []) == ["t.n: 1.0 != expected 1"]
    assert golden.compare({"ok": 1}, {"ok": True}, "t", []) == ["t.ok: True != expected 1"]
    assert golden.compare({"kappa": float("nan")}, {"kappa": float("nan")}, "t", []) == []
    assert golden.compare({"kappa": float("nan")}, {"kappa": 0.0}, "t", []) != []
    # another machine's last digits pass; a millionth more does not
    assert golden.compare({"cos": 0.12857845425605774}, {"cos": 0.12857839465141296}, "t", []) == []
    assert golden.compare({"cos": 0.1285784}, {"cos": 0.1285786}, "t", []) != []
    assert golden.compare({"cos": "0.8071392453633822"}, {"cos": "0.8071392155610598"}, "t",
                          []) == []  # a CSV cell
    assert golden.compare({"cos": "0.807"}, {"cos": "0.808"}, "t", []) != []


def test_volatile_fields_and_embedded_figures_are_normalised():
    import base64
    import io

    import numpy as np
    from PIL import Image

    def png(value: int, software: str) -> str:
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Software", software)  # what a matplotlib upgrade changes
        buffer = io.BytesIO()
        Image.fromarray(np.full((2, 3), value, np.uint8)).save(buffer, "PNG", pnginfo=info)
        return base64.b64encode(buffer.getvalue()).decode()

    one = golden._normalise({"latency_s": 0.2, "html": f'<img src="data:image/png;base64,'
                            f'{png(7, "mpl 3.9")}">', "figure": png(7, "mpl 3.9")}, "/x")
    two = golden._normalise({"latency_s": 9.1, "html": f'<img src="data:image/png;base64,'
                            f'{png(7, "mpl 3.10")}">', "figure": png(7, "mpl 3.10")}, "/x")
    other = golden._normalise({"figure": png(8, "mpl 3.9")}, "/x")
    assert one == two and one["latency_s"] == "<volatile>"
    assert one["figure"].startswith("<png 3x2 ") and other["figure"] != one["figure"]
    assert golden._normalise({"latency_s": None}, "/x") == {"latency_s": None}


def test_a_column_added_to_a_table_in_html_or_markdown_is_an_added_field():
    html = ('<p>Scores</p><table><thead><tr><th>model</th><th>acc</th></tr></thead>'
            '<tbody><tr><td>a</td><td>0.5</td></tr></tbody></table>')
    wider = html.replace("<th>acc</th>", "<th>acc</th><th>n</th>").replace(
        "<td>0.5</td>", "<td>0.5</td><td>4</td>")
    added: list[str] = []
    assert golden.compare(golden._normalise(html, "/x"), golden._normalise(wider, "/x"),
                          "r", added) == [] and added == ["r.tables[0][0].n"]
    changed = html.replace("<td>0.5</td>", "<td>0.6</td>")
    assert golden.compare(golden._normalise(html, "/x"), golden._normalise(changed, "/x"),
                          "r", []) == ["r.tables[0][0].acc: '0.6' != expected '0.5'"]
    markdown = ["# Summary", "| model | acc |", "|---|---|", "| a | 0.5 |", "after"]
    wider_md = ["# Summary", "| model | acc | n |", "|---|---|---|", "| a | 0.5 | 4 |", "after"]
    added = []
    assert golden.compare(golden._markdown_tables(markdown), golden._markdown_tables(wider_md),
                          "s", added) == [] and added == ["s[1].table[0].n"]
