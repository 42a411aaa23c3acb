"""The two offline baselines that bracket the scale: ``blind`` (question text alone) and
``geometry`` (HU-threshold segmentation answered from positions in patient space)."""
