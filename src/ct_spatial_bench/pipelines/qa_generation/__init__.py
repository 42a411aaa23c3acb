from .pipeline import create_curation_pipeline, create_pipeline

__all__ = ["create_curation_pipeline", "create_pipeline"]
