"""Thin Kedro glue, one folder per stage: ``pipeline.py`` wires the nodes, ``nodes.py`` calls the
domain code."""
