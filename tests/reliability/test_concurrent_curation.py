"""Two curation steps at once on one reply cache pay for each call once (claims in llm.cache)."""

from __future__ import annotations

import threading

from support.fake_llm_server import API_KEYS, FakeLLMServer, curation_answer, llm_settings

N_QUESTIONS = 16


def test_two_concurrent_steps_ask_each_prompt_once(tmp_path):
    from ct_spatial_bench.curation.llm_client import (
        ReplyError, curation_llm, json_replies, load_prompt,
    )

    def is_spatial(reply):
        if not isinstance(reply.get("is_spatial"), bool):
            raise ReplyError("no boolean 'is_spatial'")
        return reply["is_spatial"]

    server = FakeLLMServer(latency_s=0.2, answer=curation_answer).start()
    fields = {f"c::{i}": {"question": f"Is the nodule in the left lobe? ({i})",
                          "answer": "Yes.", "categories": "-"} for i in range(N_QUESTIONS)}
    results: list = [None, None]

    def step(slot: int) -> None:
        llm = curation_llm(llm_settings(server, "openai", concurrency=4), API_KEYS, "t", "none")
        results[slot] = json_replies(llm, load_prompt("spatial_filter_v1"), fields, is_spatial,
                                     tmp_path / "replies.sqlite", "filter", progress=False)

    try:
        threads = [threading.Thread(target=step, args=(slot,)) for slot in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        server.stop()
    # The server's own count: each distinct prompt asked once over both steps.
    assert server.requests == N_QUESTIONS
    assert all(n == 1 for n in server.asked.values())
    first, second = ({k: r.value for k, r in result.items()} for result in results)
    assert first == second and len(first) == N_QUESTIONS
    assert not any(r.error for result in results for r in result.values())
