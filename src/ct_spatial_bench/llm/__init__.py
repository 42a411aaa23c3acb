"""Asking hosted LLMs: one client per provider, an async engine with rate limits and retries,
and SQLite caches. The LLM judges (``judges/``) and the curation steps (``curation/``) both
send their prompts through here, so a provider, its key and its limits are set up one way."""
