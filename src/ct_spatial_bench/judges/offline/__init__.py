"""The offline judge: gradient-boosted trees over rule features (``features``,
``answer_features``), applied by ``judge``, refitted by ``training``, scored by ``evaluation``;
``model.json`` is the shipped artefact."""
