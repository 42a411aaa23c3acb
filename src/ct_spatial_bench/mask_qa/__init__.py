"""The mask-derived track: spatial questions computed from segmentation label maps, scored exactly.

``tables``: label tables (structure -> map, values, side, lobe, organ) as YAML data.
``measure``: label maps of one volume -> per-structure measurements in world millimetres.
``questions``: measurements -> paired closed questions and numeric ones, margins enforced.
``scoring``: free-text answers read with the spatial vocabulary; numbers by mean relative accuracy.
``summary``: per-model accuracy per family and category with volume-clustered intervals.
"""
