"""The node that writes the rehearsal tree: phantoms in CT-RATE's layout, QA in CT-SpatialVQA's."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def generate_rehearsal_tree(params: dict[str, Any]) -> tuple[dict, Any, Any, list, dict]:
    """Volumes, metadata CSV, reports CSV, QA rows and categories of the rehearsal tree."""
    import pandas as pd

    from ct_spatial_bench.synthetic.rehearsal import generate_rehearsal_tree as generate

    tree = generate(**params)
    logger.info("rehearsal tree: %d volumes, %d questions", len(tree.volumes), len(tree.qa))
    return (tree.volumes, pd.DataFrame(tree.metadata), pd.DataFrame(tree.reports), tree.qa,
            tree.categories)
