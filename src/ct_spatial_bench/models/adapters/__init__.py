"""One module per model family: each adapter implements ``models.base.ModelAdapter``."""
