from pathlib import Path

import pytest

from ct_spatial_bench.metrics import meteor as meteor_module
from ct_spatial_bench.metrics.meteor import (
    LEXNAMES,
    WORDNET_FILES,
    WordNetUnavailable,
    build_wordnet_folder,
    ensure_wordnet,
    lexnames_text,
    wordnet_available,
)
from support.project import UPSTREAM_REFERENCE as UPSTREAM



def fake_wordnet(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in WORDNET_FILES:
        (folder / name).write_text(f"{name}\n")
    return folder


def test_lexnames_are_wordnet_30s_45_files_in_order():
    lines = lexnames_text().splitlines()
    assert len(lines) == len(LEXNAMES) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert lines[3] == "03\tnoun.Tops\t1"
    assert lines[44] == "44\tadj.ppl\t3"
    assert all(int(line.split("\t")[0]) == i for i, line in enumerate(lines))


def test_build_copies_files_and_writes_lexnames(tmp_path):
    source = fake_wordnet(tmp_path / "dict")
    target = build_wordnet_folder(tmp_path / "nltk_data", source)
    assert target == tmp_path / "nltk_data" / "corpora" / "wordnet"
    for name in WORDNET_FILES:
        assert (target / name).is_file() and not (target / name).is_symlink()
        assert (target / name).read_text() == f"{name}\n"
    assert (target / "lexnames").read_text() == lexnames_text()
    assert build_wordnet_folder(tmp_path / "nltk_data", source) == target  # idempotent
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".wordnet-")]


def test_build_from_an_incomplete_source_names_the_missing_file(tmp_path):
    source = fake_wordnet(tmp_path / "dict")
    (source / "index.sense").unlink()
    with pytest.raises(WordNetUnavailable, match="index.sense"):
        build_wordnet_folder(tmp_path / "nltk_data", source)


def test_without_any_wordnet_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "elsewhere")])
    monkeypatch.setattr(meteor_module, "WORDNET_SOURCES", (str(tmp_path / "no_such_dir"),))
    monkeypatch.delenv("WNSEARCHDIR", raising=False)
    with pytest.raises(WordNetUnavailable, match="apt-get install wordnet-base"):
        ensure_wordnet(tmp_path / "nltk_data")
    assert not wordnet_available(tmp_path / "nltk_data")


def test_ensure_builds_from_wnsearchdir(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [])
    monkeypatch.setenv("WNSEARCHDIR", str(fake_wordnet(tmp_path / "dict")))
    monkeypatch.setattr(meteor_module, "WORDNET_SOURCES", ())
    found = ensure_wordnet(tmp_path / "nltk_data")
    assert Path(found) == (tmp_path / "nltk_data" / "corpora" / "wordnet").resolve()
    assert str((tmp_path / "nltk_data").resolve()) in nltk.data.path


needs_wordnet = pytest.mark.skipif(
    not wordnet_available(), reason="WordNet not installed (apt-get install wordnet-base "
    "wordnet-sense-index)")


@needs_wordnet
def test_meteor_known_values():
    from ct_spatial_bench.metrics.meteor import meteor

    # six matched words in one chunk: Fmean 1, penalty 0.5 * (1/6)^3
    assert meteor("the cat sat on the mat", "The cat sat on the mat ") == pytest.approx(
        1 - 0.5 / 216)
    assert meteor("left lung", "right kidney") == 0.0
    # WordNet synonymy (after nltk's stem step, so words whose stems are themselves)
    assert meteor("the patient is sick", "the patient is ill") == pytest.approx(1 - 0.5 / 64)
    assert meteor("the patient is sick", "the patient is well") < 0.8


def _upstream_pairs(model):
    import json

    rows = [json.loads(line) for line in
            (UPSTREAM / "predictions" / f"{model}_predictions_full.jsonl").open()]
    return [(r["answer"], r["prediction"]) for r in rows if str(r["prediction"]).strip()]


@needs_wordnet
@pytest.mark.parametrize("model, published", [
    ("radfm", 0.3108181191708251), ("merlin", 0.25646192205966345)])
def test_reproduces_upstream_meteor(model, published):
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream reference files not found at {UPSTREAM}")
    from ct_spatial_bench.metrics.meteor import meteor_scores

    pairs = _upstream_pairs(model)
    scores = meteor_scores([a for a, _ in pairs], [p for _, p in pairs])
    assert sum(scores) / len(scores) == pytest.approx(published, rel=1e-6)
