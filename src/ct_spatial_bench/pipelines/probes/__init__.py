from .pipeline import create_flip_pipeline, create_pipeline, create_representation_pipeline

__all__ = ["create_flip_pipeline", "create_pipeline", "create_representation_pipeline"]
