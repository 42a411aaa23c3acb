"""What the tests share, loaded as one pytest plugin (``support.fixtures``, named in
tests/conftest.py): the fake LLM server every LLM client is tested against (judges, curation,
the reliability experiments), the fake VLM server, a scratch copy of the project, and the tiny
models built on the fly."""
