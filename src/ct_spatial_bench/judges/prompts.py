"""Judge prompts: versioned files in ``conf/base/judge_prompts/``, rendered for one item or a batch.

A prompt file holds ``version``, ``kind`` (``structured``, the default: one item per call answered
with the verdict schema through the provider's structured-output mode; ``single``: one item per
call answered YES or NO; ``batch``: k items per call answered as JSON with indices), ``system`` and ``template`` (plus
``item_template`` and ``batch_size`` for a batch). A prompt that reproduces another project's
request exactly (``upstream_*``) may also say ``system: null`` (no system message at all),
``item_separator`` (between a batch's items; a blank line by default), ``decoding`` (exactly the
generation settings to send, ``{}`` for the SDK's defaults, instead of the client's temperature
and this file's token budget) and ``reply_key`` (the field of a batch reply holding the verdict). The version recorded with every verdict, and
used in the cache key, is the file's ``version`` plus a hash of what it says (its fields, not its
comments): editing a prompt without bumping its version still never reuses verdicts given to the
old text, and editing a comment re-pays nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROMPT = "radiologist_structured_v1"
YES_NO_PROMPT = "radiologist_yes_no_v1"
BATCH_PROMPT = "radiologist_batch_v1"
_PROMPTS_SUBDIR = Path("conf") / "base" / "judge_prompts"
KINDS = ("structured", "single", "batch")


# the reply the structured prompt asks for (parsing.parse_structured validates it)
VERDICT_SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"type": "string", "enum": ["correct", "incorrect", "cannot_judge"]},
                   "reason": {"type": "string"}},
    "required": ["verdict", "reason"],
    "additionalProperties": False,
}
# Output tokens assumed for a call that sends no limit (the SDK's default), to pace and price it.
UNCAPPED_OUTPUT_ESTIMATE = 1024
DECODING_KEYS = ("temperature", "max_tokens", "top_p", "top_k")


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    version: str  # "<version>@<hash of the file's text>"
    kind: str
    system: str | None
    template: str
    item_template: str = ""
    batch_size: int = 1
    max_output_tokens: int = 5  # per call (single) or per item (batch)
    item_separator: str = "\n\n"
    decoding: dict | None = None  # None: the client's temperature and max_output()
    reply_key: str = "verdict"

    def render_single(self, question: str, answer: str, prediction: str
                      ) -> tuple[str | None, str]:
        """(system, user) messages for one item."""
        return self.system, self.template.format(
            question=question, answer=answer, prediction=prediction)

    def render_batch(self, items: Sequence[tuple[str, str, str]]) -> tuple[str | None, str]:
        """(system, user) for items numbered from 1; the reply's indices refer to these numbers."""
        blocks = [self.item_template.format(index=i, question=q, answer=a, prediction=p)
                  for i, (q, a, p) in enumerate(items, start=1)]
        return self.system, self.template.format(items=self.item_separator.join(blocks))

    def max_output(self, n_items: int) -> int:
        """Output tokens a call may cost (the budget sent, or, with ``decoding`` that sends none,
        an allowance for pacing and pricing only)."""
        if self.decoding is not None:
            return int(self.decoding.get("max_tokens") or UNCAPPED_OUTPUT_ESTIMATE)
        return self.max_output_tokens * (n_items if self.kind == "batch" else 1)

    @property
    def schema(self) -> dict | None:
        """The JSON schema a structured prompt's reply must follow (None for the others)."""
        return VERDICT_SCHEMA if self.kind == "structured" else None


def default_prompts_dir() -> Path:
    """``conf/base/judge_prompts`` of the project run from the current folder, else of this source tree."""
    here = Path.cwd() / _PROMPTS_SUBDIR
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / _PROMPTS_SUBDIR


def load_prompt(name: str = DEFAULT_PROMPT, prompts_dir: str | Path | None = None) -> JudgePrompt:
    """Read ``<prompts_dir>/<name>.yml``; a missing or malformed file is an error naming it."""
    import yaml

    folder = Path(prompts_dir) if prompts_dir else default_prompts_dir()
    path = folder / f"{name}.yml"
    if not path.is_file():
        available = sorted(p.stem for p in folder.glob("*.yml")) if folder.is_dir() else []
        raise FileNotFoundError(f"judge prompt {name!r} not found at {path}; available: {available}")
    text = path.read_text(encoding="utf-8")
    spec = yaml.safe_load(text) or {}
    missing = [k for k in ("version", "kind", "template") if not spec.get(k)]
    if "system" not in spec or (spec["system"] is not None and not str(spec["system"]).strip()):
        missing.append("system")  # null (no system message) only when written so
    if missing:
        raise ValueError(f"{path}: missing field(s) {missing}")
    decoding = spec.get("decoding")
    if decoding is not None and (not isinstance(decoding, dict)
                                 or set(decoding) - set(DECODING_KEYS)):
        raise ValueError(f"{path}: decoding must be a mapping of {list(DECODING_KEYS)}")
    kind = spec["kind"]
    if kind not in KINDS:
        raise ValueError(f"{path}: kind {kind!r} not in {KINDS}")
    if kind == "batch" and not spec.get("item_template"):
        raise ValueError(f"{path}: a batch prompt needs 'item_template'")
    # The settings and texts the file gives, not its comments: documenting a prompt (its reply
    # rule, say) never re-keys the verdicts cached for it.
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode("utf-8")
                            ).hexdigest()[:8]
    return JudgePrompt(
        name=name,
        version=f"{spec['version']}@{digest}",
        kind=kind,
        system=None if spec["system"] is None else spec["system"].strip(),
        template=spec["template"],
        item_template=spec.get("item_template", ""),
        batch_size=int(spec.get("batch_size", 1)) if kind == "batch" else 1,
        max_output_tokens=int(spec.get("max_output_tokens_per_item" if kind == "batch"
                                       else "max_output_tokens",
                                       {"single": 5, "batch": 12, "structured": 120}[kind])),
        item_separator=str(spec.get("item_separator", "\n\n")),
        decoding=dict(decoding) if decoding is not None else None,
        reply_key=str(spec.get("reply_key", "verdict")),
    )
