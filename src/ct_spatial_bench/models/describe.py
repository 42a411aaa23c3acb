"""The models README's tables, generated from the registry, each adapter's ``card`` and its
input spec as conf declares it: ``python -m ct_spatial_bench.models describe``.

models/README.md holds this output between its two markers; a test fails when they drift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN: python -m ct_spatial_bench.models describe -->"
END = "<!-- END: python -m ct_spatial_bench.models describe -->"
DEFAULT_SPECS = Path("conf/base/parameters_preprocessing.yml")
README = Path(__file__).with_name("README.md")


def describe_spec(spec: Any) -> str:
    """One line: axes, spacing, intensity, crop, shape, slices, axis order."""
    from ct_spatial_bench.imaging.intensity import intensity_of

    parts = [f"{spec.orientation}"]
    if spec.spacing:
        parts.append("spacing " + "x".join(f"{v:g}" for v in spec.spacing) + " mm")
    parts.append(intensity_of(spec))
    if spec.crop_foreground:
        parts.append("foreground crop")
    if spec.slices:
        parts.append(f"{spec.slices} slices ({spec.slice_sampling})")
    if spec.shape:
        shape = "x".join("D" if s is None else str(s) for s in spec.shape)
        parts.append(f"{spec.fit} to {shape}")
    parts.append(f"axes {spec.axis_order}")
    return ", ".join(parts)


def _dtype_on_gpu(cls: type) -> str:
    if not cls.loads_weights:
        return "-"
    return cls.default_dtype or "bfloat16"  # common.torch_dtype's CUDA default


def _decoding(cls: type) -> str:
    from ct_spatial_bench.models.common import GREEDY

    defaults = getattr(cls, "generation_defaults", None)
    if defaults is None:
        return cls.card.decoding
    settings = {**GREEDY, **defaults}
    return f"{cls.card.decoding} (`{settings}`)"


def _ct_rate(flag: bool | None) -> str:
    return {True: "**yes**", False: "no", None: "not stated"}[flag]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def models_table(specs_path: Path = DEFAULT_SPECS) -> str:
    """The registered models' table and the unregistered models' table, as markdown."""
    import yaml

    from ct_spatial_bench.imaging.specs import InputSpec
    from ct_spatial_bench.models.cards import UNREGISTERED
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class

    params = yaml.safe_load(Path(specs_path).read_text())["preprocessing"]["specs"]
    rows = ["| model | source (repo@commit: files read) | weights | input spec (conf) | prompt "
            "| decoding | dtype on GPU | slice order | trained on CT-RATE | known deviations "
            "| status |", "|" + "---|" * 11]
    for name, entry in MODEL_REGISTRY.items():
        cls = adapter_class(name)
        card = cls.card
        spec = "- (question only)" if entry.input_spec is None else (
            f"`{entry.input_spec}`: "
            + describe_spec(InputSpec.from_params(entry.input_spec, params[entry.input_spec])))
        deviations = "; ".join(card.all_deviations()) or "-"
        cells = [f"`{name}` {card.title}", card.source, card.weights or "-", spec,
                 f"`{card.prompt}`",
                 _decoding(cls), _dtype_on_gpu(cls), card.slice_order,
                 _ct_rate(card.trained_on_ct_rate), deviations, card.status]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    rows += ["", "Environments (`python -m ct_spatial_bench.models env show|create|check|remove <model>`; "
             "models/environments.py):", "", *environment_rows()]
    rows += ["", "Asked for, not registered:", "",
             "| model | source | weights | trained on CT-RATE | why not |", "|---|---|---|---|---|"]
    for model in UNREGISTERED:
        cells = [model.title, model.source, model.weights, _ct_rate(model.trained_on_ct_rate),
                 model.why]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def environment_rows() -> list[str]:
    """One row per declared environment: the authors' pins and what was substituted here."""
    from ct_spatial_bench.models.environments import ENV_CHECKS, ENVIRONMENTS

    rows = ["| model | python | torch | transformers | other pins | authors' code | substituted "
            "| pins from | env check |", "|" + "---|" * 9]
    for name, env in ENVIRONMENTS.items():
        pins = dict(p.split("==") for p in env.pins)
        others = ", ".join(f"{k} {v}" for k, v in pins.items() if k != "transformers")
        without = " + ".join(r.replace("==", " ") for r in env.torch_requirements(False))
        cells = [f"env of `{name}`", env.python, f"{env.torch}+{env.cuda}, torchvision "
                 f"{env.torchvision} (without CUDA: {without})", pins.get("transformers", "-"),
                 others, env.code,
                 "; ".join(env.substitutions) or "-", env.source,
                 ENV_CHECKS.get(name, "versions and imports only")]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return rows


def readme_section(readme: Path = README) -> str:
    """What models/README.md holds between the markers."""
    text = readme.read_text()
    start, end = text.index(BEGIN) + len(BEGIN) + 1, text.index(END)
    return text[start:end]


def write_readme(table: str, readme: Path = README) -> None:
    text = readme.read_text()
    start, end = text.index(BEGIN) + len(BEGIN) + 1, text.index(END)
    readme.write_text(text[:start] + table + text[end:])
