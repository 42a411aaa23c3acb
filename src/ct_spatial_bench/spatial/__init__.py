"""The spatial vocabulary: terms and axes in text, the six CT-SpatialVQA categories, and the
spatial-question classifier."""
