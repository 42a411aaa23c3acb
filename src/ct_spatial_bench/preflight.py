"""What a run needs, checked before any node runs: inputs, volumes, model checkpoints, judge keys.

Each check raises ``ConfigurationError`` with one paragraph naming what to fix (a runtime parameter
where one exists); ``RunPlan`` is the short plan printed when all is well. Kept free of Kedro: the
hook (hooks.py) and ``kedro slurm submit`` (cli.py) hand in what they read from the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ct_spatial_bench.errors import ConfigurationError

MAX_LISTED = 5  # missing volumes named in the message; the count covers the rest


def fix_hint(dataset: str, parameters_of: Mapping[str, str], made_by: str | None) -> str:
    parameter = parameters_of.get(dataset)
    if parameter:
        return f"fix it with --params {parameter}=<path>"
    if made_by:
        return f"run the {made_by} pipeline first (kedro run --pipelines {made_by}, with --env)"
    return f"fix the catalog entry {dataset!r} of this environment"


def check_input_exists(dataset: str, location: str, exists: bool,
                       parameters_of: Mapping[str, str], made_by: str | None = None) -> None:
    """A dataset the run reads but never writes must be there before it starts; ``made_by``
    names the pipeline that writes it, if any."""
    if not exists:
        raise ConfigurationError(
            f"{dataset}: {location} does not exist, and no stage of this run writes it; "
            f"{fix_hint(dataset, parameters_of, made_by)}.")


def check_companions(dataset: str, files: Mapping[str, str],
                     parameters_of: Mapping[str, str]) -> None:
    """Files an input needs beside it (CT-SpatialVQA's categories file) exist."""
    for role, path in files.items():
        if not Path(path).is_file():
            raise ConfigurationError(
                f"{dataset}: its {role} file {path} does not exist; "
                f"{fix_hint(f'{dataset}.{role}', parameters_of, None)}.")


def check_volumes(volume_keys: Iterable[str], root: str, suffix: str,
                  parameter: str | None) -> int:
    """Every volume the QA names resolves under ``root``; returns how many there are."""
    keys = sorted(set(volume_keys))
    where = f"--params {parameter}=<path>" if parameter else "the raw_volumes catalog entry"
    if not Path(root).is_dir():
        raise ConfigurationError(
            f"the volume folder {root} does not exist ({len(keys)} volumes are asked for); "
            f"point {parameter or 'raw_volumes'} at the CT-RATE download: {where}.")
    missing = [k for k in keys if not (Path(root) / f"{k}{suffix}").is_file()]
    if missing:
        shown = ", ".join(missing[:MAX_LISTED]) + (", ..." if len(missing) > MAX_LISTED else "")
        raise ConfigurationError(
            f"{len(missing)} of the {len(keys)} volumes the QA names are not under {root} "
            f"(e.g. {shown}); check {where}, or the volume_path_prefix stripped from the QA's "
            f"image_path.")
    return len(keys)


def check_models(inference_params: Mapping[str, Mapping[str, Any]]) -> None:
    """Each selected model has the settings it cannot guess (its checkpoint above all), and
    they point at a checkpoint that is there (a local folder holding its config, a hub id that
    is well formed and, offline, cached) and at the authors' code folders."""
    from ct_spatial_bench.models.readiness import checkpoint_problems
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class, check_configured

    problems = []
    for name, params in sorted(inference_params.items()):
        model = params.get("model", name)
        if model not in MODEL_REGISTRY:
            continue
        try:
            check_configured(model, params.get("config") or {})
        except ConfigurationError as error:
            problems.append(str(error))
            continue
        missing = checkpoint_problems(name, adapter_class(model), params.get("config") or {})
        if missing:
            problems.append(f"inference_{name} cannot start: {'; '.join(missing)}. Fix it in "
                            "conf/<env>/parameters_inference.yml or with --params "
                            f"\"{name}.inference.config.<setting>=<value>\". Nothing was run.")
    if problems:
        raise ConfigurationError(" ".join(problems))


def memory_lines(params: Mapping[str, Any], selected: Mapping[str, Mapping[str, Any]],
                 questions_per_volume: int | None = None) -> list[str]:
    """Per selected model with a checkpoint on this machine: estimated GPU memory beside the
    requested GPU type's (models/memory_plan.py), its batch bounded by ``max_batch`` and by
    ``questions_per_volume`` (the QA's most on one volume; None: not known before the run). A
    model that cannot fit, or whose longest prompt exceeds its context, stops the run naming
    both numbers; one configured for the CPU is not compared."""
    from ct_spatial_bench.imaging.specs import InputSpec
    from ct_spatial_bench.models.memory_plan import plan_for
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class

    specs = (params.get("preprocessing") or {}).get("specs") or {}
    lines, problems = [], []
    for name, inference in sorted(selected.items()):
        entry = MODEL_REGISTRY.get(inference.get("model", name))
        if entry is None or str((inference.get("config") or {}).get("device", "")) == "cpu":
            continue
        spec = (InputSpec.from_params(entry.input_spec, specs[entry.input_spec])
                if entry.input_spec in specs else None)
        plan = plan_for(name, adapter_class(entry.name), {"inference": inference,
                               "resources": (params.get(name) or {}).get("resources")}, spec,
                        questions_per_volume)
        if plan is not None:
            lines.append(plan.line())
            problems += plan.problems()
    if problems:
        raise ConfigurationError("; ".join(problems) + ". Nothing was run.")
    return lines


def judge_lines(judging: Mapping[str, Any],
                api_keys: Mapping[str, str | None] | None) -> list[str]:
    """The judges this run will use, and the fallback that applies; an error where the policy
    (require_all_judges, fallback_judge) leaves none. A dry run needs no keys."""
    from ct_spatial_bench.llm.providers import PROVIDERS, with_api_key

    ready, keyless = [], []
    for spec in judging.get("judges") or []:
        name, config = (spec, {}) if isinstance(spec, str) else (spec["name"], spec.get("config"))
        model = (config or {}).get("model")
        label = f"{name} ({model})" if model else name
        if name in PROVIDERS and with_api_key(name, dict(config or {}), api_keys)[1]:
            keyless.append((label, with_api_key(name, dict(config or {}), api_keys)[1]))
        else:
            ready.append(label)
    lines = [f"judge {label}" for label in ready]
    if judging.get("dry_run"):
        return lines + [f"judge {label}: no key, priced only (dry run)" for label, _ in keyless]
    if keyless and judging.get("require_all_judges"):
        label, why = keyless[0]
        raise ConfigurationError(
            f"judge {label} {why}, and judging.require_all_judges is true: the run stops before "
            f"inference. Set the key(s) of {', '.join(k for k, _ in keyless)}, or run with "
            "--params judging.require_all_judges=false to judge with those that have keys "
            "(or judging.fallback_judge when none has).")
    lines += [f"judge {label}: {why}, skipped" for label, why in keyless]
    if not ready:
        fallback = judging.get("fallback_judge")
        if not fallback:
            raise ConfigurationError(
                "no configured judge has its API key and judging.fallback_judge is null; set the "
                "keys or --params judging.fallback_judge=offline.")
        lines.append(f"judge {fallback}: the fallback (judging.fallback_judge), as no "
                     "configured judge has its key")
    return lines


def _known(count: int | None) -> str:
    return "?" if count is None else f"{count:,}"


@dataclass
class RunPlan:
    """What a run is about to do, printed before its first node."""

    split: str
    items: int | None = None
    volumes: int | None = None
    models: Sequence[str] = ()
    judges: list[str] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)  # per model: estimate beside the GPU's

    def asked_judges(self) -> int:
        return sum("skipped" not in line for line in self.judges)

    def judge_calls(self) -> int | None:
        """(prediction, judge) pairs to decide: the judging plan's total of answers."""
        if self.items is None:
            return None
        return self.items * len(self.models) * self.asked_judges()

    def count_qa(self, items: Sequence[Mapping[str, Any]],
                 volume_path_prefix: str = "") -> list[str]:
        """Take the QA's item and volume counts; returns the volume keys (for the volume check)."""
        from ct_spatial_bench.records import volume_key

        keys = [volume_key(item["image_path"] if isinstance(item, Mapping) else item.image_path,
                           volume_path_prefix) for item in items]  # a dict or a typed record
        self.items, self.volumes = len(items), len(set(keys))
        return keys

    def judge_line(self) -> str:
        """The answers the judges will be asked at most, as the judging plan counts them; before
        a run has made its QA, how they will be counted (the count follows once the QA exists)."""
        judges = self.asked_judges()
        per = f"{judges} judge{'' if judges == 1 else 's'}"
        total = self.judge_calls()
        if not judges:
            return "answers to judge: none (no judge is asked)"
        if total is None:
            models = len(self.models)
            return ("answers to judge at most (before the cache): one per QA item and model "
                    f"({models} model{'' if models == 1 else 's'}) x {per}, counted once this "
                    "run has made its QA")
        return (f"answers to judge at most (before the cache): {total // judges:,} per judge x "
                f"{per} = {total:,}")

    def qa_made_line(self) -> str:
        """Said once a run has made the QA the plan could not count (``count_qa`` first)."""
        line = f"QA made by this run: {self.items:,} items on {_known(self.volumes)} volumes"
        return f"{line}; {self.judge_line()}" if self.judges else line

    def render(self) -> str:
        asked = (f"{self.items:,} QA items on {_known(self.volumes)} volumes"
                 if self.items is not None else "QA items made by this run")
        lines = [f"plan ({self.split} split): {asked}; models: {', '.join(self.models) or 'none'}"]
        lines += [f"  {line}" for line in self.memory]
        lines += [f"  {line}" for line in self.judges]
        if self.judges:  # answers, as the judging plan's "answers" column and total count them
            lines.append(f"  {self.judge_line()}")
        return "\n".join(lines)
