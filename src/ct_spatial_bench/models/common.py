"""What every neural adapter shares: required settings, greedy decoding, device, dtype and
quantization, the model revision and the efficiency figures written into each prediction.

Nothing heavy at import: torch is imported inside the functions that use it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.models.base import ModelAdapter
from ct_spatial_bench.models.quantization import (
    Quantization,
    QuantizationUnavailable,
    plan_quantization,
    pretrained_keywords,
    quantization_figures,
    quantize_loaded,
    quantized_layers,
    reset_peak_memory,
    usable_under_inference_mode,
)

GREEDY = {"do_sample": False, "num_beams": 1}
_SAMPLING_ONLY = ("temperature", "top_p", "top_k", "typical_p")


class ModelNotConfigured(ConfigurationError, ValueError):
    """A model was asked to run without the settings it cannot guess (e.g. its checkpoint)."""


def generation_settings(config: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Greedy decoding unless ``config["generation"]`` says otherwise; the settings actually used.

    Sampling-only knobs are dropped under greedy decoding so the record shows no setting that had
    no effect (and transformers does not warn about them).
    """
    settings = {**GREEDY, **defaults, **(config.get("generation") or {})}
    if not settings.get("do_sample"):
        for key in _SAMPLING_ONLY:
            settings.pop(key, None)
    return settings


def missing_settings(adapter_cls: type, config: dict[str, Any]) -> list[str]:
    """The ``required_config`` keys of an adapter class that ``config`` leaves empty."""
    return [key for key in adapter_cls.required_config if not config.get(key)]


def not_configured_message(model: str, missing: list[str], examples: dict[str, str]) -> str:
    keys = ", ".join(f"{model}.inference.config.{key}" for key in missing)
    hints = "; ".join(f"{key}: e.g. {examples[key]}" for key in missing if key in examples)
    first = missing[0]
    return (
        f"inference_{model} cannot start: {keys} is not set ({hints or 'no default exists'}). "
        f"Set it in conf/base/parameters_inference.yml (or conf/<env>/parameters_inference.yml), "
        f"or run with --params \"{model}.inference.config.{first}=<value>\". Nothing was run."
    )


def pick_device(config: dict[str, Any]) -> str:
    if config.get("device"):
        return str(config["device"])
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_dtype(name: str | None, device: str) -> Any:
    """``bfloat16``/``float16``/``float32`` by name; float32 on CPU unless asked otherwise."""
    import torch

    if not name:
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return {"bfloat16": torch.bfloat16, "float16": torch.float16,
                "float32": torch.float32}[str(name)]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; use bfloat16, float16 or float32") from None


def dtype_keyword(dtype: Any) -> dict[str, Any]:
    """``from_pretrained``'s dtype argument under the installed transformers: ``dtype`` from 4.56
    on, ``torch_dtype`` before. Older versions do not know ``dtype``: they hand it on to the
    model's config or constructor, so the weights load as float32 (or the load fails)."""
    import transformers
    from packaging.version import Version

    modern = Version(transformers.__version__) >= Version("4.56")
    return {"dtype" if modern else "torch_dtype": dtype}


def attention_keyword(config: dict[str, Any]) -> dict[str, Any]:
    """The attention implementation, explicit: ``sdpa`` unless ``attn_implementation`` is set
    (a checkpoint's config may ask for flash_attention_2, which fails where flash-attn is not
    installed). transformers before 4.36 has no such argument (and only eager attention)."""
    import transformers
    from packaging.version import Version

    if Version(transformers.__version__) < Version("4.36"):
        return {}
    return {"attn_implementation": config.get("attn_implementation") or "sdpa"}


def model_revision(config: dict[str, Any], model: Any = None) -> str:
    """``<weights>@<revision>``: the configured revision, else the hub commit the weights came from."""
    source = str(config.get("model_path") or config.get("model") or "")
    commit = config.get("revision") or getattr(getattr(model, "config", None), "_commit_hash", None)
    return f"{source}@{commit}" if commit else f"{source}@local"


def efficiency_of(modules: list[Any], device: str) -> dict[str, Any]:
    """Parameter count, dtype, device and peak GPU memory (MiB, since the adapter began loading)."""
    params, dtype = 0, None
    for module in modules:
        for parameter in getattr(module, "parameters", lambda: [])():
            params += parameter.numel()
            dtype = dtype or str(parameter.dtype).replace("torch.", "")
    peak = None
    if device.startswith("cuda"):
        import torch

        peak = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return {"parameters": params, "dtype": dtype, "device": device, "peak_gpu_memory_mib": peak}


class NeuralAdapter(ModelAdapter):
    """Base of the adapters that load weights: settings check, decoding, revision, quantization,
    efficiency.

    Subclasses set ``name``, ``input_spec``, ``description``, ``required_config``,
    ``config_examples`` and ``generation_defaults``, and implement ``_load(config)`` (keeping the
    loaded modules in ``self._modules``) and ``answer_volume`` (or ``answer_one``).
    ``quantized_at_load``: the subclass passes ``_pretrained_keywords()`` to ``from_pretrained``
    (and places the model with ``_placed``), so any backend can quantize while loading; otherwise
    its modules, loaded by the authors' code, are quantized after loading (quanto only).
    """

    loads_weights: ClassVar[bool] = True
    required_config: ClassVar[tuple[str, ...]] = ("model_path",)
    checkpoint_files: ClassVar[dict[str, tuple[tuple[str, ...], bool]]] = {
        "model_path": (("config.json",), True)}
    generation_defaults: ClassVar[dict[str, Any]] = {"max_new_tokens": 256}
    quantized_at_load: ClassVar[bool] = False
    # dtype when the config names none: None is bfloat16 on CUDA and float32 on CPU
    default_dtype: ClassVar[str | None] = None

    def __init__(self) -> None:
        self._config: dict[str, Any] = {}
        self._generation: dict[str, Any] = {}
        self._modules: list[Any] = []
        self._revision = ""
        self.device = "cpu"
        self.quantization = Quantization()

    def load(self, config: dict[str, Any]) -> None:
        missing = missing_settings(type(self), config)
        if missing:
            raise ModelNotConfigured(not_configured_message(self.name, missing,
                                                            self.config_examples))
        self._config = dict(config)
        self._generation = generation_settings(config, self.generation_defaults)
        self.device = pick_device(config)
        self.quantization = self._planned_quantization()
        reset_peak_memory(self.device)
        self._load(self._config)
        if self.quantization.quantized:
            self._check_quantized()
        self._revision = model_revision(self._config, self._modules[0] if self._modules else None)

    def _planned_quantization(self) -> Quantization:
        plan = plan_quantization(self._config.get("quantization"), self.device,
                                 self._config.get("dtype") or self.default_dtype, self.name)
        if plan.backend == "bitsandbytes" and not self.quantized_at_load:
            raise QuantizationUnavailable(
                f"{self.name} is loaded by its authors' code, not from_pretrained, so bitsandbytes "
                "cannot replace its layers while loading; use quantization.backend: quanto")
        return plan

    def _check_quantized(self) -> None:
        """Quantize what the authors' code loaded; fail now if no layer ended up quantized."""
        if not self._modules:
            raise QuantizationUnavailable(f"{self.name} keeps no local weights to quantize")
        if not self.quantized_at_load:
            quantize_loaded(self._modules, self.quantization)
        if not quantized_layers(self._modules):
            raise QuantizationUnavailable(
                f"{self.name}: no layer was quantized to {self.quantization.precision} "
                f"({self.quantization.backend}); it has no linear layer the backend handles")
        if self.quantization.backend == "quanto":
            usable_under_inference_mode(self._modules)

    def _load(self, config: dict[str, Any]) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"model_revision": self._revision, "generation": dict(self._generation)}

    def efficiency(self) -> dict[str, Any]:
        return {**efficiency_of(self._modules, self.device),
                **quantization_figures(self.quantization, self._modules, self.device,
                                       self._dtype())}

    def _dtype(self) -> Any:
        """The dtype the model computes in: the quantization's compute dtype where given, else
        the configured dtype, else the adapter's default."""
        return torch_dtype(self.quantization.compute_dtype or self._config.get("dtype")
                           or self.default_dtype, self.device)

    def _dtype_keyword(self) -> dict[str, Any]:
        return dtype_keyword(self._dtype())

    def _pretrained_keywords(self) -> dict[str, Any]:
        """``from_pretrained``'s dtype, attention and quantization arguments."""
        return {**self._dtype_keyword(), **attention_keyword(self._config),
                **pretrained_keywords(self.quantization, self.device, self._dtype())}

    def _from_pretrained(self, auto_class: Any, path: str, **keywords: Any) -> Any:
        """``auto_class.from_pretrained(path)`` with this adapter's keywords, placed and in eval
        mode; any missing, unexpected or reshaped weight name is an error (strict loading)."""
        from ct_spatial_bench.models.strict_loading import check_loading_info

        model, info = auto_class.from_pretrained(path, **self._pretrained_keywords(),
                                                 output_loading_info=True, **keywords)
        check_loading_info(self.name, path, info)
        return self._placed(model)

    def _placed(self, model: Any) -> Any:
        """``model`` on the adapter's device, in eval mode (bitsandbytes has placed it already)."""
        if self.quantization.backend != "bitsandbytes":
            model = model.to(self.device)
        return model.eval()

    def _generate_kwargs(self) -> dict[str, Any]:
        """Decoding settings for ``generate``; ``stop`` entries are ours, not transformers'."""
        return {k: v for k, v in self._generation.items() if k != "stop"}
