"""The models under test: the adapter protocol (``base``), the registry, the cards, the code the
neural adapters share, and ``adapters/`` (one module per model family)."""
