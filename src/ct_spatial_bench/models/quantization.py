"""Loading a model at a smaller precision, and what its weights and run cost in memory.

Every adapter that loads weights takes ``quantization`` in its config: ``null`` (full precision),
``int8`` or ``int4``, or a mapping ``{precision, compute_dtype, backend}``. Two backends:

- ``bitsandbytes`` where CUDA and the package are present (what the upstream MedGemma run used
  to fit a 12 GB card): LLM.int8() for int8; NF4 with double quantization for int4, computing in
  ``compute_dtype``. It replaces layers while ``from_pretrained`` loads, so it serves only the
  adapters that declare ``quantized_at_load``.
- ``quanto`` (optimum-quanto) everywhere else, CPU included, so the tests exercise the path:
  weight-only int8 or int4 (group-wise), activations in ``compute_dtype``. It also quantizes a
  model loaded by its authors' code, after loading.

``backend: auto`` (the default) picks bitsandbytes on CUDA when it is installed, else quanto. A
model that cannot be quantized as asked raises ``QuantizationUnavailable`` with the reason when
it loads, before anything is answered.

Memory: ``parameter_bytes`` counts the bytes actually stored (a quantized weight's packed
data, scales and shifts, not its nominal float size); ``peak_memory`` is the CUDA allocator's
peak, or on CPU the process's peak resident memory, both reset when the model starts loading.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ct_spatial_bench.errors import ConfigurationError

FULL = "full"
PRECISIONS = (FULL, "int8", "int4")
BACKENDS = ("auto", "bitsandbytes", "quanto")
INSTALL_HINT = "pip install 'ct_spatial_bench[quantization]'"
KEEP_FULL = ["lm_head", "*.lm_head"]  # the output projection stays full precision (as transformers)


class QuantizationUnavailable(ConfigurationError, ValueError):
    """A model cannot be loaded at the precision asked for; the message says why."""


@dataclass(frozen=True)
class Quantization:
    """The precision a model is loaded at; ``compute_dtype`` None means the device's default."""

    precision: str = FULL
    backend: str | None = None
    compute_dtype: str | None = None

    @property
    def quantized(self) -> bool:
        return self.precision != FULL


def _spec(option: Any, model: str) -> dict[str, Any]:
    spec = {"precision": option} if option is None or isinstance(option, str) else dict(option)
    unknown = set(spec) - {"precision", "compute_dtype", "backend"}
    if unknown:
        raise QuantizationUnavailable(f"{model}.quantization: unknown key(s) {sorted(unknown)}; "
                                      "use precision, compute_dtype, backend")
    return spec


def requested_precision(option: Any, model: str) -> str:
    """``full``, ``int8`` or ``int4`` from a ``quantization`` entry (null means full)."""
    precision = str(_spec(option, model).get("precision") or FULL).lower()
    precision = FULL if precision in ("none", "null") else precision
    if precision not in PRECISIONS:
        raise QuantizationUnavailable(f"{model}.quantization: {precision!r} is not one of "
                                      "null, int8, int4")
    return precision


def plan_quantization(option: Any, device: str, dtype: str | None, model: str) -> Quantization:
    """The ``quantization`` config entry of ``model`` checked against what is installed.

    ``dtype`` is the adapter's own dtype setting, the compute dtype unless the option names one.
    """
    spec = _spec(option, model)
    precision = requested_precision(option, model)
    compute_dtype = spec.get("compute_dtype") or dtype
    if precision == FULL:
        return Quantization(FULL, None, compute_dtype)
    backend = str(spec.get("backend") or "auto")
    if backend not in BACKENDS:
        raise QuantizationUnavailable(f"{model}.quantization.backend: {backend!r} is not one of "
                                      f"{', '.join(BACKENDS)}")
    return Quantization(precision, _usable_backend(backend, device, model), compute_dtype)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _usable_backend(backend: str, device: str, model: str) -> str:
    on_cuda = device.startswith("cuda")
    if backend in ("auto", "bitsandbytes") and on_cuda and _installed("bitsandbytes"):
        return "bitsandbytes"
    if backend == "bitsandbytes":
        why = "needs a CUDA device" if not on_cuda else "is not installed"
        raise QuantizationUnavailable(f"{model}: bitsandbytes {why} (device {device}); use "
                                      f"backend quanto or auto ({INSTALL_HINT})")
    if not (_installed("optimum.quanto") and _installed("accelerate")):
        raise QuantizationUnavailable(f"{model}: quantizing on {device} needs optimum-quanto and "
                                      f"accelerate: {INSTALL_HINT}")
    return "quanto"


def pretrained_keywords(plan: Quantization, device: str, dtype: Any) -> dict[str, Any]:
    """``from_pretrained``'s quantization arguments; bitsandbytes places the weights itself."""
    if not plan.quantized:
        return {}
    if plan.backend == "bitsandbytes":
        from transformers import BitsAndBytesConfig

        if plan.precision == "int8":
            config = BitsAndBytesConfig(load_in_8bit=True)
        else:
            config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                        bnb_4bit_use_double_quant=True,
                                        bnb_4bit_compute_dtype=dtype)
        return {"quantization_config": config, "device_map": {"": device}}
    from transformers import QuantoConfig

    return {"quantization_config": QuantoConfig(weights=plan.precision)}


def quantize_loaded(modules: Iterable[Any], plan: Quantization) -> None:
    """Quantize, in place, the linear layers of modules loaded by their authors' code (quanto)."""
    from optimum.quanto import freeze, quantize

    for module in modules:
        quantize(module, weights=f"q{plan.precision}", exclude=KEEP_FULL)  # qint8, qint4
        freeze(module)


def quantized_layers(modules: Iterable[Any]) -> int:
    """How many layers hold quantized weights (quanto's or bitsandbytes')."""
    count = 0
    for module in modules:
        for layer in module.modules():
            kind = type(layer).__name__
            count += kind.startswith("QLinear") or kind in ("Linear8bitLt", "Linear4bit")
    return count


def usable_under_inference_mode(modules: Iterable[Any]) -> None:
    """quanto's int4 weights cannot be transposed inside ``torch.inference_mode`` (torch refuses
    to version a view of a tensor subclass made outside it), and every adapter decodes in that
    mode: each quantized layer runs its own forward outside it, still without gradients."""
    import torch
    from optimum.quanto import QModuleMixin

    def outside_inference_mode(forward):
        def run(*args, **kwargs):
            with torch.inference_mode(False), torch.no_grad():
                return forward(*args, **kwargs)
        return run

    for module in modules:
        for layer in module.modules():
            if isinstance(layer, QModuleMixin):
                layer.forward = outside_inference_mode(layer.forward)


def tensor_bytes(tensor: Any) -> int:
    """Bytes stored for a tensor; a wrapper subclass (a quantized weight) is the sum of the
    tensors it holds, so int4 counts its packed data, scales and shifts."""
    from torch.utils._python_dispatch import is_traceable_wrapper_subclass

    if is_traceable_wrapper_subclass(tensor):
        names, _ = tensor.__tensor_flatten__()
        return sum(tensor_bytes(getattr(tensor, name)) for name in names)
    return tensor.numel() * tensor.element_size()


def parameter_bytes(modules: Iterable[Any]) -> int:
    """Bytes of every parameter and buffer of ``modules`` (shared tensors counted once)."""
    seen: set[int] = set()
    total = 0
    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            if id(tensor) not in seen:
                seen.add(id(tensor))
                total += tensor_bytes(tensor)
    return total


def reset_peak_memory(device: str) -> None:
    """Start counting the peak from now: the CUDA allocator's, or the process's resident set."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(device)
        return
    try:  # Linux: writing 5 resets the peak resident set size (VmHWM), proc(5)
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass  # the peak then counts from the process's start; peak_memory says so


def peak_memory(device: str) -> tuple[float | None, str]:
    """(MiB, what was measured) since ``reset_peak_memory``."""
    if device.startswith("cuda"):
        import torch

        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1), "cuda_allocated"
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1), "process_peak_rss"
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "process_peak_rss"


def quantization_figures(plan: Quantization, modules: list[Any], device: str,
                         dtype: Any) -> dict[str, Any]:
    """The efficiency fields a prediction carries about precision and memory."""
    peak, source = peak_memory(device) if device != "api" else (None, None)
    return {"precision": plan.precision, "quantization_backend": plan.backend,
            "compute_dtype": str(dtype).replace("torch.", ""),
            "parameter_memory_mib": round(parameter_bytes(modules) / 2**20, 3),
            "peak_memory_mib": peak, "peak_memory_source": source}
