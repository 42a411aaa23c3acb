"""``python -m ct_spatial_bench.models describe [--write] [--specs conf/...yml]``: print the models
README's tables from the code (``--write`` puts them into models/README.md).
``python -m ct_spatial_bench.models env show|create|check|remove <model>``: a model's declared
environment (models/envs.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from ct_spatial_bench.models.describe import DEFAULT_SPECS, models_table, write_readme

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["env"]:
        from ct_spatial_bench.models.envs import main as env_main

        env_parser = argparse.ArgumentParser(prog="python -m ct_spatial_bench.models env")
        env_parser.add_argument("action", choices=["show", "create", "check", "remove"])
        env_parser.add_argument("model")
        env_args = env_parser.parse_args(argv[1:])
        return env_main(env_args.action, env_args.model)
    parser = argparse.ArgumentParser(prog="python -m ct_spatial_bench.models")
    parser.add_argument("command", choices=["describe"])
    parser.add_argument("--specs", type=Path, default=DEFAULT_SPECS,
                        help="the preprocessing parameters declaring the input specs")
    parser.add_argument("--write", action="store_true", help="write models/README.md's table")
    args = parser.parse_args(argv)
    if not args.specs.is_file():
        print(f"no input specs at {args.specs}: run from the project root or pass --specs",
              file=sys.stderr)
        return 2
    table = models_table(args.specs)
    if args.write:
        write_readme(table)
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
