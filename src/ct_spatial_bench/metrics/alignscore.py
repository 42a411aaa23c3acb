"""AlignScore (Zha et al., ACL 2023, arXiv 2305.16739): is a claim consistent with its context?

Built from the paper and the layout of the released checkpoints (AlignScore-base / -large), without
the authors' package (it pins torch<2, pytorch-lightning 1.x and spaCy):

- the checkpoint is a PyTorch Lightning file whose ``state_dict`` holds a RoBERTa encoder under
  ``base_model.`` (pooler included), its masked-LM head under ``mlm_head.`` (training only, unused
  here) and three heads on the pooled output: ``tri_layer`` (3-way: aligned / contradict /
  neutral), ``bin_layer`` (2-way) and ``reg_layer`` (regression);
- the score is the paper's default mode (``nli_sp``): the context is cut into chunks of whole
  sentences of roughly 350 words, the claim into sentences; every (chunk, sentence) pair is encoded
  as a RoBERTa pair (context first, truncated first when too long); the 3-way head's softmax
  probability of "aligned" (index 0) is taken; each claim sentence keeps its best chunk, and the
  claim's score is the mean over its sentences.

Sentences are split with nltk's ``sent_tokenize`` as upstream does. Where nltk's English Punkt
model is not installed (it is a download), nltk's Punkt algorithm runs without its learned
abbreviations, which can split after "Dr." or "e.g."; a warning says how to install the model.

Two deliberate differences from the authors' inference loop, neither of which changes a score:
pairs are padded to the longest in their batch instead of to 512 tokens (padding is masked), and
a pair whose claim sentence alone overflows the length falls back to truncating the longer side
on its own, instead of the whole batch doing so (so a score does not depend on its neighbours).

The checkpoint holds weights only, so RoBERTa's tokenizer and config are read from a local folder
(``backbone``; by default the checkpoint's folder). Nothing is downloaded.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ct_spatial_bench.errors import ConfigurationError

logger = logging.getLogger(__name__)

CHUNK_WORDS = 350  # the paper's context chunk size (upstream counts whitespace words)
ALIGNED = 0  # the "aligned" class of the 3-way head
HEADS = ("tri_layer", "bin_layer", "reg_layer")
ENCODER_PREFIX = "base_model."
# Lightning keeps a module's hyper-parameters in its own dict subclass; these are the names it has
# had (pytorch_lightning 1.x, as the released checkpoints were saved, and lightning 2.x).
LIGHTNING_ATTRIBUTE_DICTS = (
    "pytorch_lightning.utilities.parsing.AttributeDict",
    "lightning_fabric.utilities.data.AttributeDict",
    "lightning.fabric.utilities.data.AttributeDict",
)
BACKBONE_HINT = (
    "put RoBERTa's config and tokenizer (roberta-base for AlignScore-base, roberta-large for "
    "AlignScore-large) beside the checkpoint or in metrics.alignscore.backbone, saved once where "
    "there is a model hub with AutoConfig/AutoTokenizer.from_pretrained(NAME).save_pretrained(DIR)"
)


class AlignScoreError(ConfigurationError, ValueError):
    """The AlignScore checkpoint or its backbone folder cannot be used."""


class _LightningAttributeDict(dict):
    """Stand-in for Lightning's AttributeDict, so its checkpoints load with ``weights_only``:
    it unpickles as a plain dict (torch's safe unpickler fills plain dicts only)."""

    def __new__(cls, *args, **kwargs):
        return {}


@functools.lru_cache(maxsize=1)
def _sentence_splitter():
    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        return nltk.tokenize.sent_tokenize
    except LookupError:
        from nltk.tokenize.punkt import PunktSentenceTokenizer

        logger.warning("AlignScore splits sentences without nltk's English Punkt model (it may "
                       "split after abbreviations); `python -m nltk.downloader punkt_tab` "
                       "installs it")
        return PunktSentenceTokenizer().tokenize


def split_sentences(text: str) -> list[str]:
    return list(_sentence_splitter()(text))


def context_chunks(context: str, chunk_words: int = CHUNK_WORDS) -> list[str]:
    """The context as runs of whole sentences: n = words // chunk_words + 1 target chunks, each of
    len(sentences) // n sentences (at least one), the remainder forming a last, shorter chunk."""
    sentences = split_sentences(context) or [""]
    n_target = len(context.strip().split()) // chunk_words + 1
    per_chunk = max(len(sentences) // n_target, 1)
    return [" ".join(sentences[i:i + per_chunk]) for i in range(0, len(sentences), per_chunk)]


def aggregate(aligned: Sequence[Sequence[float]]) -> float:
    """Mean over claim sentences (columns) of the best chunk (row) for each."""
    n_sentences = len(aligned[0])
    return sum(max(row[j] for row in aligned) for j in range(n_sentences)) / n_sentences


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The state dict of a Lightning ``.ckpt`` (or of a bare saved state dict), tensors only."""
    import torch

    stand_ins = [(_LightningAttributeDict, name) for name in LIGHTNING_ATTRIBUTE_DICTS]
    try:
        with torch.serialization.safe_globals(stand_ins):
            saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise AlignScoreError(f"metrics.alignscore.checkpoint: no file {path}") from None
    except Exception as exc:  # torch's unpickling errors have no common type
        raise AlignScoreError(f"{path} is not a checkpoint torch can load safely: {exc}") from None
    state = saved.get("state_dict", saved) if isinstance(saved, dict) else None
    missing = [h for h in HEADS if state is None or f"{h}.weight" not in state]
    if missing:
        raise AlignScoreError(f"{path} is not an AlignScore checkpoint: it lacks the {missing} "
                              "head(s) (a 3-way, a 2-way and a regression head on RoBERTa)")
    return state


@dataclass
class AlignScorer:
    """A loaded AlignScore model: RoBERTa, its 3-way head and tokenizer, on one device."""

    encoder: Any
    tri_layer: Any
    tokenizer: Any
    device: str = "cpu"
    batch_size: int = 32
    chunk_words: int = CHUNK_WORDS

    def score(self, contexts: Sequence[str], claims: Sequence[str]) -> list[float]:
        """AlignScore (nli_sp) of each claim against its own context; every pair of every item is
        batched together. A claim without a sentence is not scored (None)."""
        if len(contexts) != len(claims):
            raise ValueError(f"{len(contexts)} contexts but {len(claims)} claims")
        grids = [(context_chunks(context, self.chunk_words), split_sentences(claim))
                 for context, claim in zip(contexts, claims)]
        pairs = [(chunk, sentence) for chunks, sentences in grids
                 for chunk in chunks for sentence in sentences]
        probabilities = iter(self.aligned_probabilities(pairs))
        scores = []
        for chunks, sentences in grids:
            grid = [[next(probabilities) for _ in sentences] for _ in chunks]
            scores.append(aggregate(grid) if sentences else None)
        return scores

    def aligned_probabilities(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """The 3-way head's softmax probability of "aligned" for each (context, claim) pair."""
        import torch

        out: list[float] = []
        for start in range(0, len(pairs), self.batch_size):
            encoded = [self._encode(*pair) for pair in pairs[start:start + self.batch_size]]
            batch = self.tokenizer.pad(encoded, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                pooled = self.encoder(input_ids=batch["input_ids"],
                                      attention_mask=batch["attention_mask"]).pooler_output
                logits = self.tri_layer(pooled).float()
            out.extend(logits.softmax(dim=-1)[:, ALIGNED].tolist())
        return out

    def _encode(self, context: str, claim: str) -> dict[str, list[int]]:
        limit = self.tokenizer.model_max_length
        try:
            return self.tokenizer(context, claim, truncation="only_first", max_length=limit)
        except Exception:  # the claim alone is longer than the limit: trim the longer side
            return self.tokenizer(context, claim, truncation="longest_first", max_length=limit)


def load_alignscore(
    checkpoint: str | os.PathLike, backbone: str | os.PathLike | None = None,
    device: str = "cpu", batch_size: int = 32,
) -> AlignScorer:
    """The scorer of an AlignScore checkpoint, with RoBERTa's config and tokenizer from
    ``backbone`` (default: the checkpoint's folder). Offline: nothing is downloaded."""
    import torch
    from transformers import AutoTokenizer, RobertaConfig, RobertaModel

    folder = Path(backbone) if backbone else Path(checkpoint).parent
    if not (folder / "config.json").is_file():
        raise AlignScoreError(f"AlignScore: no RoBERTa config.json in {folder}; {BACKBONE_HINT}")
    state = read_checkpoint(checkpoint)
    config = RobertaConfig.from_pretrained(folder, local_files_only=True)
    encoder = RobertaModel(config, add_pooling_layer=True)
    encoder_state = {k[len(ENCODER_PREFIX):]: v for k, v in state.items()
                     if k.startswith(ENCODER_PREFIX) and not k.endswith("position_ids")}
    try:
        encoder.load_state_dict(encoder_state, strict=True)
    except RuntimeError as exc:
        raise AlignScoreError(f"{checkpoint} does not fit the RoBERTa config in {folder} "
                              f"(base vs large?): {str(exc).splitlines()[0]}") from None
    tri_layer = torch.nn.Linear(config.hidden_size, 3)
    tri_layer.load_state_dict({"weight": state["tri_layer.weight"],
                               "bias": state["tri_layer.bias"]})
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    encoder.to(device).eval()
    tri_layer.to(device).eval()
    return AlignScorer(encoder, tri_layer, tokenizer, device=device, batch_size=batch_size)
