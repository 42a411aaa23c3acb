"""Write the golden files: ``python tests/golden/regenerate.py`` (from the repository root).

Runs ``judging``, ``metrics`` and ``reporting`` on the committed sanity inputs and ``reproduce``
on the committed upstream-format fixture (``golden_stages.py``), and writes every output,
normalised, under ``expected/``. ``test_golden_outputs.py`` then holds every later change to
those outputs to these files, allowing only added fields and columns.

When regenerating is legitimate: only for a deliberate change of behaviour (a metric fixed, a
column's meaning changed, a table redesigned), made in the same commit whose message says which
outputs change and why; ``git diff tests/golden/expected`` is the change to review. Never to make
a failing golden test pass after a refactoring that was meant to change nothing: that failure is
the bug. Added fields do not need it (the test allows and lists them); regenerate to adopt them.
The inputs under ``inputs/`` are fixed (see ``inputs/README.md``) and are not rewritten here.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import golden_stages as golden


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="golden-") as scratch:
        for name, run in (("sanity", golden.run_sanity), ("reproduce", golden.run_reproduce)):
            root = Path(scratch) / name
            root.mkdir()
            written = golden.write_golden(run(root), golden.EXPECTED / name, root)
            print(f"{name}: {len(written)} golden files under {golden.EXPECTED / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
