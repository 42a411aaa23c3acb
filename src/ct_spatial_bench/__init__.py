"""CT spatial VQA benchmark: do 3D vision-language models know where things are in a CT?"""

__version__ = "0.1.0"
