"""Any OpenAI-compatible chat endpoint with images (GPT-4o, a vLLM server) as a model under test.

The same slices and message layout as ``hf_vlm`` (``models.slice_chat``); each image goes inline
as a base64 PNG data URL. It is served, not loaded: no local weights, nothing to quantize.
"Greedy" here is temperature 0 (the API's closest); the key comes from the environment variable
named by ``api_key_env`` and is never written anywhere. Without ``api_key_env``, ``OPENAI_API_KEY``
is sent only to OpenAI's own API: a ``base_url`` elsewhere (a vLLM server) gets no key unless the
config names one for it (``secrets.key_may_go_to``).
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from typing import Any

from ct_spatial_bench.models.base import Answer, ModelAdapter, Question
from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.slice_chat import SliceChat


def data_url(picture: Any) -> str:
    """A PIL image as a ``data:image/png;base64,...`` URL (PNG: no compression artefacts)."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class OpenAIVisionLanguageModel(SliceChat, ModelAdapter):
    name = "openai_vlm"
    served = True
    input_spec = "vlm_slices"
    description = "Any OpenAI-compatible chat endpoint with images."
    card = ModelCard(
        title="any OpenAI-compatible chat endpoint", weights="-",
        source="- (openai SDK, any base_url)", prompt="as hf_vlm, PNG data URLs",
        decoding="temperature 0, 256 tokens", slice_order="superior first (top to bottom)",
        trained_on_ct_rate=None, status="tested against a fake server on 127.0.0.1")
    required_config = ("model",)
    checkpoint_files = {}  # served elsewhere: nothing local to check
    config_examples = {"model": "gpt-4o (with base_url for a vLLM or other compatible server)"}
    generation_defaults = {"temperature": 0.0, "max_tokens": 256}

    def __init__(self) -> None:
        self._config: dict[str, Any] = {}
        self._generation: dict[str, Any] = {}
        self._revision = ""
        self.device = "api"

    def load(self, config: dict[str, Any]) -> None:
        from ct_spatial_bench.models.common import (
            ModelNotConfigured, missing_settings, not_configured_message,
        )
        from ct_spatial_bench.models.quantization import (
            FULL, QuantizationUnavailable, requested_precision,
        )

        missing = missing_settings(type(self), config)
        if missing:
            raise ModelNotConfigured(not_configured_message(self.name, missing,
                                                            self.config_examples))
        if requested_precision(config.get("quantization"), self.name) != FULL:
            raise QuantizationUnavailable(f"{self.name} is served through an API: it has no "
                                          "local weights to quantize")
        from openai import OpenAI

        self._config = dict(config)
        self._generation = {**self.generation_defaults, **(config.get("generation") or {})}
        self.prompt = {**self.prompt_defaults, **(config.get("prompt") or {})}
        from ct_spatial_bench.llm.endpoints import (effective_base_url, url_credentials,
                                                    without_credentials)
        from ct_spatial_bench.secrets import (key_may_go_to, register_secret,
                                              register_secret_variable)

        # OPENAI_API_KEY is OpenAI's key even when the config spells it out; another variable
        # is the key of the server the config points at. The rule is applied to the URL the SDK
        # will call (OPENAI_BASE_URL included), which is then given to it explicitly.
        variable = config.get("api_key_env") or "OPENAI_API_KEY"
        register_secret_variable(variable)
        url = effective_base_url("openai", config.get("base_url"))
        for part in url_credentials(url):
            register_secret(part)
        key = ""
        if key_may_go_to("openai", url, key_named_for_url=variable != "OPENAI_API_KEY"):
            key = os.environ.get(variable, "")
        register_secret(key)
        self.client = OpenAI(api_key=key or "not-needed", base_url=url,
                             timeout=float(config.get("timeout_s", 120)),
                             max_retries=int(config.get("max_retries", 3)))
        self.device = "api"
        self._revision = f"{config['model']}@{without_credentials(url)}"
        self._served_as: str | None = None
        self._tokens = {"prompt": 0, "completion": 0}

    def describe(self) -> dict[str, Any]:
        return {"model_revision": self._revision, "generation": dict(self._generation),
                "prompt_template": dict(self.prompt)}

    def messages(self, question: str, images: list[Any]) -> list[dict[str, Any]]:
        """``images`` as PIL images or as the data URLs already made of them."""
        message = super().messages(question, images)[0]
        content = [
            {"type": "image_url", "image_url": {"url": part["image"] if isinstance(
                part["image"], str) else data_url(part["image"])}}
            if part["type"] == "image" else part
            for part in message["content"]
        ]
        return [{"role": "user", "content": content}]

    def answer_volume(self, image: Any, questions: list[Question]) -> Iterator[Answer]:
        """One request per question, each opening with the same bytes (instruction, the slices
        as data URLs encoded once per volume) and the question last, so a server with prefix
        caching (vLLM's ``--enable-prefix-caching``) prefills the volume once. Each answer is
        yielded as it comes, so the engine stores it before the next request is paid for."""
        urls = [data_url(picture) for picture in self.images_of(image)]
        for item in questions:
            messages = self.messages(item.text, urls)
            reply = self.client.chat.completions.create(
                model=self._config["model"], messages=messages, **self._generation)
            self._served_as = getattr(reply, "model", None) or self._served_as
            usage = getattr(reply, "usage", None)  # optional in the API's reply
            prompt_tokens = new_tokens = prefill = None
            if usage is not None:
                prompt_tokens, new_tokens = usage.prompt_tokens, usage.completion_tokens
                self._tokens["prompt"] += prompt_tokens or 0
                self._tokens["completion"] += new_tokens or 0
                details = getattr(usage, "prompt_tokens_details", None)
                cached = getattr(details, "cached_tokens", None) if details else None
                prefill = prompt_tokens - cached if prompt_tokens and cached is not None \
                    else prompt_tokens
            # the API says why decoding stopped: "length" is max_tokens running out
            finish = getattr(reply.choices[0], "finish_reason", None)
            yield Answer((reply.choices[0].message.content or "").strip(), _prompt_text(messages),
                         prompt_tokens, prefill, new_tokens,
                         hit_token_limit={"length": True, "stop": False}.get(finish))

    def efficiency(self) -> dict[str, Any]:
        return {"parameters": None, "dtype": None, "device": "api", "peak_gpu_memory_mib": None,
                "served_model": self._served_as, "tokens": dict(self._tokens)}


def _prompt_text(messages: list[dict[str, Any]]) -> str:
    """The message as text, each image shown as ``<image>`` (the data URLs are not stored)."""
    return "".join(part["text"] if part["type"] == "text" else "<image>"
                   for part in messages[0]["content"])
