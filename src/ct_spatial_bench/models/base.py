"""The one protocol every model under test implements: a volume with all of its questions in,
one answer (with its prompt and token counts) per question out.

The unit of work is the volume, not the question: CT-SpatialVQA asks ~5.7 questions per CT and
every model puts the image before the question, so an adapter that can reuse the image-dependent
part of its prompt (encoded features, a key-value cache) does it once per volume. An adapter that
can only answer one question at a time implements ``answer_one`` and inherits the loop.

Everything the inference engine uses is declared here, with a default: ``efficiency``, ``close``,
``required_config``, ``config_examples``, ``base_model``, ``blind``, ``variant``, ``prompt_of``,
``prompt_template``, and the registry facts
(``name``, ``input_spec``, ``description`` and the capabilities ``answer_prior``,
``reads_slices``, ``loads_weights``, ``served``, ``baseline``). Nothing is probed with getattr.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

QUESTION_SLOT = "{question}"  # where the question stands in a prompt template


@dataclass(frozen=True)
class Question:
    """One question of a volume. The reference answer is never passed to a model."""

    qa_id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """A model's answer to one question and the prompt that produced it.

    Token counts are None where the model does not expose them: ``prompt_tokens`` is the length
    of the whole prompt, ``prefill_tokens`` how many of them this answer computed (less than
    ``prompt_tokens`` when a prefix shared by the volume's questions was computed once, and
    counted on the first of them), ``new_tokens`` how many were generated. ``qa_id`` names the
    question answered; an adapter that decodes questions together yields answers in the order
    they finish and sets it (the engine then joins by it, not by position).
    """

    text: str
    prompt: str
    prompt_tokens: int | None = None
    prefill_tokens: int | None = None
    new_tokens: int | None = None
    qa_id: str | None = None
    # whether decoding stopped because the new-token budget ran out (the answer may be cut);
    # None where the adapter cannot tell
    hit_token_limit: bool | None = None

    def tokens(self) -> dict[str, int] | None:
        """The token counts as a prediction records them (None when none is known)."""
        counts = {"prompt": self.prompt_tokens, "prefill": self.prefill_tokens,
                  "new": self.new_tokens}
        return None if all(v is None for v in counts.values()) else counts

    def stop_fields(self) -> dict[str, bool]:
        """``hit_token_limit`` as a prediction records it: only where it is known, so the
        predictions of adapters that cannot tell stay as they were."""
        return {} if self.hit_token_limit is None else {"hit_token_limit": self.hit_token_limit}


class ModelAdapter:
    """A model under test (subclass it; the defaults are what a model without the capability does).

    Class attributes, read by the registry without loading anything: ``name``, ``input_spec``
    (the preprocessing spec whose output the model reads; None: question text only),
    ``description``, ``answer_prior`` (True: ``load`` receives ``config["answer_prior"]``, the QA
    items it learns a prior from), ``reads_slices`` (its input is 2D slices rendered from the
    volume, so the representation probes can vary them), ``loads_weights`` (it loads weights of
    its own, which the quantization ablation can quantize), ``served`` (it is asked through a
    server's API), ``baseline`` (needs no weights, keys or GPU: every plain ``kedro run``
    evaluates it), ``batches_questions`` (decodes a volume's questions together, up to
    ``config.max_batch``: the memory plan counts a key-value cache per row),
    ``required_config`` (settings without a default, e.g. the checkpoint) and
    ``config_examples`` (what to set them to, for the error message).

    ``load`` is called once before any answer; heavy imports belong there. ``answer_volume``
    returns one ``Answer`` per question, in order (or in any order, each carrying its
    ``qa_id``), as a list or as they come (a generator): the
    engine checkpoints each answer as soon as it has it, so an adapter whose calls are paid
    yields each answer before it makes the next call. ``describe`` returns what determines the
    answers beyond the prompt: the model's revision and the decoding settings actually used.
    """

    name: ClassVar[str] = ""
    input_spec: ClassVar[str | None] = None
    description: ClassVar[str] = ""
    answer_prior: ClassVar[bool] = False
    reads_slices: ClassVar[bool] = False
    loads_weights: ClassVar[bool] = False
    served: ClassVar[bool] = False
    baseline: ClassVar[bool] = False
    batches_questions: ClassVar[bool] = False
    required_config: ClassVar[tuple[str, ...]] = ()
    config_examples: ClassVar[dict[str, str]] = {}
    # settings naming a checkpoint: (files a local folder must hold one of, hub id allowed);
    # checked before any node runs (models/readiness.py)
    checkpoint_files: ClassVar[dict[str, tuple[tuple[str, ...], bool]]] = {}
    code_folders: ClassVar[tuple[str, ...]] = ()  # settings naming the authors' code checkouts
    blind: bool = False
    variant: str | None = None  # the variant its predictions carry (a blind control's: blind)

    @classmethod
    def image_tokens(cls, spec: Any, checkpoint_config: dict[str, Any]) -> int | None:
        """Tokens the image takes in the prompt for input ``spec`` (memory plan); None: unknown."""
        return None

    @classmethod
    def text_tokens(cls, config: dict[str, Any]) -> int:
        """Tokens of the prompt's text (everything but the image) for the longest question
        (memory plan): the flat allowance, unless the adapter's prompt holds more text."""
        from ct_spatial_bench.models.memory_plan import TEXT_TOKENS

        return TEXT_TOKENS

    @classmethod
    def memory_sources(cls, config: dict[str, Any]) -> tuple[Any, Any] | None:
        """(config.json, weights: a folder, a file, or a list of them where the model keeps its
        parts apart) on this machine, for the memory plan; None where the model keeps no local
        checkpoint or it is not here."""
        from ct_spatial_bench.models.memory_plan import local_checkpoint

        folder = local_checkpoint(config.get("model_path"), config.get("revision"))
        if folder is None or not (folder / "config.json").is_file():
            return None
        return folder / "config.json", folder

    @property
    def base_model(self) -> str:
        """The model whose name its predictions carry: the one a blind control is the twin
        of; the model itself otherwise."""
        return self.name

    def load(self, config: dict[str, Any]) -> None:
        """Nothing to load by default."""

    def answer_volume(self, image: Any, questions: list[Question]) -> Iterable[Answer]:
        """All questions on one volume (``image`` is None for a model that reads none or when
        the blind control withholds it). The default asks them one by one, yielding each."""
        for question in questions:
            yield self.answer_one(image, question)

    def answer_one(self, image: Any, question: Question) -> Answer:
        raise NotImplementedError(f"{type(self).__name__} implements neither answer_volume "
                                  "nor answer_one")

    def describe(self) -> dict[str, Any]:
        return {"model_revision": "", "generation": {}}

    def prompt_of(self, question: str) -> str:
        """The text prompt this model is given for ``question`` (by default the question
        itself); adapters that wrap the question override it and build their prompts with it."""
        return question

    def prompt_template(self) -> Any:
        """What this model's prompts are made from, the question standing as ``{question}``:
        part of the checkpoint signature, so a changed template asks every question again.
        By default the prompt of that placeholder; an adapter whose prompt is a structure (a
        chat template, slice blocks) returns that structure."""
        return self.prompt_of(QUESTION_SLOT)

    def efficiency(self) -> dict[str, Any] | None:
        """Parameters, dtype, device, peak GPU memory; None for a model without weights."""
        return None

    def close(self) -> None:
        """Release what ``load`` took (processes, servers); nothing by default."""
