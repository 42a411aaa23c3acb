from .pipeline import create_merge_pipeline, create_pipeline

__all__ = ["create_merge_pipeline", "create_pipeline"]
