"""QA curation: reports -> generated QA pairs -> spatial filter and category tags -> agreement.

Plain modules with no Kedro imports; the ``qa_generation`` and ``qa_filtering`` pipelines glue
them. The LLM steps go through :mod:`.llm_client`, on the provider layer the judges use
(:mod:`ct_spatial_bench.llm`); each has an offline counterpart (templated generation, the rules
classifier) so the default run needs no key.
"""
