"""METEOR as upstream computes it (nltk ``meteor_score`` on whitespace tokens), with WordNet offline.

nltk's METEOR matches synonyms through WordNet, which nltk normally downloads at run time. This
machine has no internet, so the project builds nltk's WordNet folder itself from the WordNet 3.0
files that Debian's ``wordnet-base`` and ``wordnet-sense-index`` packages install in
``/usr/share/wordnet`` (the WordNet 3.0 that ``nltk.download("wordnet")`` fetches; nltk's reader
opens ``index.sense`` at start-up, which Debian ships in the second package). The files are copied, not linked, so the folder
stays valid if the package is removed, and nltk's ``lexnames`` file, which Debian does not ship,
is written from the WordNet 3.0 lexicographer-file list (lexnames(5WN)).

Where WordNet is looked for, in order: wherever nltk already finds it (``NLTK_DATA``, an earlier
``nltk.download``); the project's folder (``data/nltk_data`` under the working directory, which is
the project root for ``kedro run`` and ``pytest``, or ``$CT_SPATIAL_BENCH_NLTK_DATA``); and else
that folder is built from ``$WNSEARCHDIR`` or ``/usr/share/wordnet``.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.metrics.normalise import clean_text

WORDNET_SOURCES = ("/usr/share/wordnet",)
DEFAULT_NLTK_DATA = Path("data") / "nltk_data"
# The WordNet database files nltk's reader opens.
WORDNET_FILES = (
    "cntlist.rev", "index.sense", "data.adj", "data.adv", "data.noun", "data.verb", "index.adj", "index.adv",
    "index.noun", "index.verb", "adj.exc", "adv.exc", "noun.exc", "verb.exc",
)
# WordNet 3.0's lexicographer files in order, with their syntactic category (1 noun, 2 verb,
# 3 adjective, 4 adverb): the content of the ``lexnames`` file nltk reads at start-up.
LEXNAMES = (
    ("adj.all", 3), ("adj.pert", 3), ("adv.all", 4), ("noun.Tops", 1), ("noun.act", 1),
    ("noun.animal", 1), ("noun.artifact", 1), ("noun.attribute", 1), ("noun.body", 1),
    ("noun.cognition", 1), ("noun.communication", 1), ("noun.event", 1), ("noun.feeling", 1),
    ("noun.food", 1), ("noun.group", 1), ("noun.location", 1), ("noun.motive", 1),
    ("noun.object", 1), ("noun.person", 1), ("noun.phenomenon", 1), ("noun.plant", 1),
    ("noun.possession", 1), ("noun.process", 1), ("noun.quantity", 1), ("noun.relation", 1),
    ("noun.shape", 1), ("noun.state", 1), ("noun.substance", 1), ("noun.time", 1),
    ("verb.body", 2), ("verb.change", 2), ("verb.cognition", 2), ("verb.communication", 2),
    ("verb.competition", 2), ("verb.consumption", 2), ("verb.contact", 2), ("verb.creation", 2),
    ("verb.emotion", 2), ("verb.motion", 2), ("verb.perception", 2), ("verb.possession", 2),
    ("verb.social", 2), ("verb.stative", 2), ("verb.weather", 2), ("adj.ppl", 3),
)
INSTALL_HINT = (
    "install Debian's WordNet files (`sudo apt-get install wordnet-base wordnet-sense-index`), or set WNSEARCHDIR to "
    "a WordNet 3.0 dict folder, or run `python -m nltk.downloader wordnet` where there is internet"
)


class WordNetUnavailable(ConfigurationError, RuntimeError):
    """nltk's WordNet is not installed and cannot be built from local files (a fix the user
    makes: the command line says it in one paragraph, exit 2, no traceback)."""


def lexnames_text() -> str:
    return "".join(f"{i:02d}\t{name}\t{pos}\n" for i, (name, pos) in enumerate(LEXNAMES))


def _source_dirs() -> list[Path]:
    candidates = [os.environ.get("WNSEARCHDIR"), *WORDNET_SOURCES]
    return [Path(c) for c in candidates if c]


def _is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (*WORDNET_FILES, "lexnames"))


def build_wordnet_folder(nltk_data: str | os.PathLike, source: str | os.PathLike) -> Path:
    """Copy WordNet 3.0 from ``source`` into ``<nltk_data>/corpora/wordnet`` with a lexnames file.

    The folder is built beside its final place and renamed into it, so a crash or a second process
    building at the same time never leaves a half-copied folder that looks complete.
    """
    source = Path(source)
    missing = [name for name in WORDNET_FILES if not (source / name).is_file()]
    if missing:
        raise WordNetUnavailable(f"{source} lacks the WordNet file(s) {missing}; {INSTALL_HINT}")
    target = Path(nltk_data) / "corpora" / "wordnet"
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
    for name in WORDNET_FILES:
        shutil.copyfile(source / name, staging / name)
    (staging / "lexnames").write_text(lexnames_text(), encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
        if not _is_complete(target):
            raise
    return target


def _nltk_finds_wordnet() -> bool:
    import nltk

    for resource in ("corpora/wordnet", "corpora/wordnet.zip"):
        try:
            nltk.data.find(resource)
            return True
        except LookupError:
            continue
    return False


def ensure_wordnet(nltk_data: str | os.PathLike | None = None) -> str:
    """Make nltk's WordNet loadable offline and say where it is; raise with the fix if it cannot.

    ``nltk_data`` is the project's folder (default ``$CT_SPATIAL_BENCH_NLTK_DATA`` or
    ``data/nltk_data``); it is added to ``nltk.data.path`` and built there when needed.
    """
    import nltk

    folder = Path(nltk_data or os.environ.get("CT_SPATIAL_BENCH_NLTK_DATA") or DEFAULT_NLTK_DATA)
    folder = folder.resolve()
    if str(folder) not in nltk.data.path:
        nltk.data.path.append(str(folder))
    if _nltk_finds_wordnet():
        return str(nltk.data.find("corpora/wordnet"))
    for source in _source_dirs():
        if source.is_dir() and all((source / n).is_file() for n in WORDNET_FILES):
            return str(build_wordnet_folder(folder, source))
    searched = ", ".join(str(s) for s in _source_dirs())
    raise WordNetUnavailable(
        f"nltk's WordNet (needed by METEOR) was not found in nltk's data path or {folder}, "
        f"and no WordNet 3.0 files were found in {searched} to build it from; {INSTALL_HINT}"
    )


def wordnet_available(nltk_data: str | os.PathLike | None = None) -> bool:
    try:
        ensure_wordnet(nltk_data)
    except WordNetUnavailable:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _meteor_function():
    ensure_wordnet()
    from nltk.translate.meteor_score import meteor_score

    return meteor_score


def meteor(ref: str, pred: str) -> float:
    """nltk METEOR of one pair on whitespace tokens of the stripped, lowercased texts (upstream)."""
    return float(_meteor_function()([clean_text(ref).split()], clean_text(pred).split()))


def meteor_scores(refs: Sequence[str], preds: Sequence[str]) -> list[float]:
    if len(refs) != len(preds):
        raise ValueError(f"{len(refs)} references but {len(preds)} predictions")
    return [meteor(r, p) for r, p in zip(refs, preds)]
