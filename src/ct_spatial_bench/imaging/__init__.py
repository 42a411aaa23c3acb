"""Reading CT volumes as they are stored and preparing each model's input: decoding, orientation
from the header, intensity windows, resampling, slices and views."""
