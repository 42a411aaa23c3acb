"""One loopback stand-in for every LLM/VLM API the project calls, driven by the real SDK clients:
the judges, curation's LLM and the served VLM (``openai_vlm``), told apart per request.

Speaks OpenAI chat completions (``/v1/chat/completions``), Gemini generateContent
(``/v1[beta]/models/<model>:generateContent``) and DashScope text generation
(``/api/v1/services/aigc/text-generation/generation``). It answers YES when the prediction equals
the reference answer (ignoring case and directives), else NO. Directives inside a prediction make
it misbehave for that item: ``[[429x2]]`` (the first two asks get 429 with Retry-After),
``[[500x1]]``, ``[[timeoutx1]]`` (the first ask answers after ``slow_s``), ``[[garbage]]``
(``[[garbagex1]]``: only the first ask), ``[[refuse]]``, ``[[incorrect]]`` (replies the word
INCORRECT), ``[[drop]]`` (left out of a batch reply), ``[[zero]]`` (a batch reply numbered
from 0), ``[[nonutf8]]`` (a reply body that is not UTF-8), ``[[cannot]]`` (``cannot_judge``).
A request that asks for structured output (OpenAI ``response_format``, Gemini
``responseMimeType: application/json``, DashScope ``parameters.response_format``) gets the
verdict schema's JSON, ``{"verdict": "correct"|"incorrect", "reason": ...}``; ``structured``
counts such requests per protocol. Every request is counted per (protocol,
prediction), so tests can prove an item was never asked twice. Batch replies come back in
shuffled order.

A curation prompt (a report to write questions from: ``Radiology report of one chest CT``; a
question to filter or tag: ``Question: ...\nAnswer: ...``) is answered by ``curation_answer``:
counted per subject (the report; ``filter: <question>``, ``tagger: <question>``), the subject's
directives apply. Given ``answer`` (``user message -> (subject, reply text)``) the server answers
every prompt with it instead (a test's own replies, e.g. upstream's prompts).

A vision request (an OpenAI chat message with ``image_url`` parts: ``openai_vlm``) is a served
VLM's: its question (the last text part) gets ``vlm_script[question]`` ("I cannot tell." if not
scripted) from model ``served_model``, stopped by max_tokens (finish_reason "length") for a
question in ``vlm_cut``; ``vlm_requests`` keeps each body and Authorization header,
``vlm_asked`` the questions, ``vlm_answered`` counts replies; ``hold_vlm_after(n)`` makes the
requests after the n-th reply hang (a job about to be killed) until ``release_vlm()``. No key is
checked there (a vLLM server takes any). ``bodies`` keeps the last
request body per protocol and ``all_bodies`` every one, so a test can see what the SDK sent.

``echo_key`` makes a 401 body echo the key it was sent, as real providers do: ``"full"`` as is,
``"masked"`` as OpenAI does ("sk-abc***********wxyz"). ``keys_seen`` keeps every key (or
``None``) each request carried, so a test can see where a key went. A message whose content is a
list of parts (a vision request) is read as its text parts.

Run as a script (``python fake_llm_server.py --port 0 --latency 0.2``) it serves in its own
process and prints its port; ``GET /stats`` returns the counts.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import threading
import time
from collections import Counter, defaultdict

from aiohttp import web

_DIRECTIVE = re.compile(r"\[\[(\w+?)(?:x(\d+))?\]\]")
NONUTF8 = "@@not-utf8@@"  # replaced by bytes that are not UTF-8 in the body sent
_SINGLE = re.compile(r"Reference answer: (.*)\nPrediction: (.*)")
_REPORT = re.compile(r"Radiology report of one chest CT:\n\n(.*?)\n\nWrite between", re.DOTALL)
_PAIR = re.compile(r"Question: (.*)\nAnswer: (.*)")
_BATCH = re.compile(r"\[(\d+)\]\nQuestion: .*\nReference answer: (.*)\nPrediction: (.*)")
GOOD_KEY = "test-key"

PROVIDERS = ("openai", "gemini", "qwen")
PROTOCOL = {"openai": "openai", "gemini": "gemini", "qwen": "dashscope"}
API_KEYS = {"openai": GOOD_KEY, "gemini": GOOD_KEY, "dashscope": GOOD_KEY}  # curation's keys


def _directives(prediction: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2) or 10**9) for m in _DIRECTIVE.finditer(prediction)}


def _clean(text: str) -> str:
    return _DIRECTIVE.sub("", text).strip().lower()


def generation_reply(report: str) -> str:
    """Eight usable pairs (and a blank one), or a single pair for a report saying BROKEN."""
    if "BROKEN" in report:
        return json.dumps({"qa_pairs": [{"question": "Only one?", "answer": "Yes."}]})
    pairs = [{"question": f"Question {i} about the right upper lobe?", "answer": f"Answer {i}."}
             for i in range(8)]
    pairs.append({"question": "", "answer": "blank question, dropped"})
    return "```json\n" + json.dumps({"qa_pairs": pairs}) + "\n```"


def curation_answer(user: str) -> tuple[str, str] | None:
    """(subject, reply text) for a curation prompt (None for any other); a pair whose answer
    says FAIL gets prose."""
    report = _REPORT.search(user)
    if report:
        return report.group(1), generation_reply(report.group(1))
    pair = _PAIR.search(user)
    if pair is None:
        return None
    question, answer = pair.groups()
    if "FAIL" in answer:
        return f"pair: {question}", "I would rather not say."
    if "is_spatial" in user:
        return f"filter: {question}", json.dumps({"is_spatial": "lobe" in question})
    return f"tagger: {question}", json.dumps(
        {"categories": ["Laterality & Bilateral Symmetry", "longitudinal"]})


def llm_settings(server, provider: str, **config) -> dict:
    """A curation step's ``llm`` settings aimed at ``server``, with fast retries. The key is
    named in the config: a credentials key goes only to its provider's own host, never to a
    base_url."""
    return {"provider": provider, "max_tokens": 500,
            "config": {"base_url": server.urls[provider], "api_key": GOOD_KEY,
                       "backoff_base_s": 0.01,
                       "backoff_max_s": 0.05, "timeout_s": 1.0, "concurrency": 4, **config}}


class FakeLLMServer:
    def __init__(self, latency_s: float = 0.0, slow_s: float = 3.0, retry_after: str = "1",
                 seed: int = 0, answer=None, echo_key: str | None = None,
                 vlm_script: dict[str, str] | None = None, served_model: str = "served-1") -> None:
        self.latency_s, self.slow_s, self.retry_after = latency_s, slow_s, retry_after
        self.answer = answer
        self.vlm_script = dict(vlm_script or {})  # the served VLM's reply per question
        self.served_model = served_model
        self.vlm_cut: set[str] = set()  # questions whose reply ran out of max_tokens
        self.vlm_requests: list[dict] = []  # {"body", "auth"} of each vision request
        self.vlm_asked: list[str] = []
        self.vlm_answered = 0
        self._hold_vlm_after: int | None = None
        self.echo_key = echo_key
        self.keys_seen: list = []
        self.bodies: dict = {}  # protocol -> the last request body
        self.all_bodies: dict = defaultdict(list)  # protocol -> every request body, in order
        self.random = random.Random(seed)
        self.asked: Counter = Counter()     # (protocol, prediction) -> requests received
        self.answered: Counter = Counter()  # (protocol, prediction) -> 200 replies sent
        self.times: dict = defaultdict(list)  # (protocol, prediction) -> request times
        self.requests = 0
        self.structured: Counter = Counter()  # protocol -> requests asking for a JSON verdict
        self.stop_answering_after: int | None = None  # then hang (a run about to be killed)
        self.port = 0
        self._stopping = False
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- behaviour
    def _attempt(self, protocol: str, predictions: list[str]) -> int:
        with self._lock:
            self.requests += 1
            attempt = 0
            for p in predictions:
                self.asked[(protocol, p)] += 1
                self.times[(protocol, p)].append(time.monotonic())
                attempt = max(attempt, self.asked[(protocol, p)])
            return attempt

    async def _reply(self, protocol: str, user: str, headers,
                     structured: bool = False) -> tuple[int, str | None, dict]:
        """(HTTP status, reply text or None for a refusal, extra headers)."""
        if structured:
            with self._lock:
                self.structured[protocol] += 1
        answered_text = None
        batch = _BATCH.findall(user) if self.answer is None else []
        items = [(int(i), a, p) for i, a, p in batch] or [
            (0, a, p) for a, p in _SINGLE.findall(user)[:1]]
        # not a judge's prompt: the test's own answers, or curation's
        told = self.answer(user) if self.answer is not None else (
            None if items else curation_answer(user))
        if told is not None:
            subject, answered_text = told
            batch, items = [], [(0, "", subject)]
        predictions = [p for _, _, p in items]
        attempt = self._attempt(protocol, predictions)
        key = headers.get("auth")
        self.keys_seen.append(key)
        if key != GOOD_KEY:
            shown = {"full": key, "masked": f"{key[:3]}{'*' * 12}{key[-4:]}" if key else key
                     }.get(self.echo_key or "")
            return 401, (f"Incorrect API key provided: {shown}. You can find your API key at "
                         "https://platform.openai.com/account/api-keys." if shown
                         else "invalid api key"), {}
        rules: dict[str, int] = {}
        for p in predictions:
            rules.update(_directives(p))
        if self._holding():
            while self._holding():  # hang until released; the caller is meant to be dead by then
                await asyncio.sleep(0.05)
            return 503, "released after a hang", {}
        await asyncio.sleep(self.latency_s)
        if attempt <= rules.get("429", 0):
            return 429, "rate limited", {"Retry-After": self.retry_after}
        if attempt <= rules.get("500", 0):
            return 500, "internal error", {}
        if attempt <= rules.get("timeout", 0):
            await asyncio.sleep(self.slow_s)
        if attempt <= rules.get("garbage", 0):
            return 200, "The weather today is mild with light winds.", {}
        if "refuse" in rules:
            return 200, None, {}
        if "incorrect" in rules:
            return 200, "INCORRECT", {}
        if attempt <= rules.get("nonutf8", 0):
            return 200, ("YES " if not structured else '{"verdict": "correct", "reason": "') \
                + NONUTF8 + ("" if not structured else '"}'), {}
        if "cannot" in rules and structured:
            return 200, json.dumps({"verdict": "cannot_judge", "reason": "texts disagree"}), {}
        verdicts = [(i, "YES" if _clean(a) == _clean(p) else "NO", p) for i, a, p in items]
        with self._lock:
            for p in predictions:
                self.answered[(protocol, p)] += 1
        if answered_text is not None:
            return 200, answered_text, {}
        if not batch and structured:
            word = "correct" if verdicts[0][1] == "YES" else "incorrect"
            return 200, json.dumps({"verdict": word, "reason": f"the prediction is {word}"}), {}
        if not batch:
            return 200, verdicts[0][1], {}
        shift = -1 if "zero" in rules else 0
        reply = [{"index": i + shift, "verdict": v} for i, v, p in verdicts
                 if "drop" not in _directives(p)]
        self.random.shuffle(reply)
        return 200, "```json\n" + json.dumps(reply) + "\n```", {}

    def _holding(self) -> bool:
        limit = self.stop_answering_after
        return limit is not None and not self._stopping and sum(self.answered.values()) >= limit

    # ---------------------------------------------------------------- protocols
    async def openai(self, request: web.Request) -> web.Response:
        body = await request.json()
        content = body["messages"][-1]["content"]
        if isinstance(content, list) and any(p.get("type") == "image_url" for p in content):
            return await self.served_vlm(body, request.headers.get("Authorization"))
        self.bodies["openai"] = body
        self.all_bodies["openai"].append(body)
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if isinstance(content, list):  # text parts only: read as one text
            content = "".join(part.get("text", "") for part in content)
        status, text, extra = await self._reply("openai", content, {"auth": key},
                                                bool(body.get("response_format")))
        if status != 200:
            error = {"error": {"message": text, "type": "error", "code": str(status)}}
            return web.json_response(error, status=status, headers=extra)
        message = {"role": "assistant", "content": text, "refusal": None}
        if text is None:
            message["refusal"] = "I'm sorry, I can't help with that."
        return _json({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 2, "total_tokens": 52}})

    async def served_vlm(self, body: dict, auth: str | None) -> web.Response:
        """A served VLM's reply (openai_vlm's OpenAI-compatible endpoint, e.g. vLLM)."""
        question = [p["text"] for p in body["messages"][-1]["content"]
                    if p.get("type") == "text"][-1]
        with self._lock:
            self.vlm_requests.append({"body": body, "auth": auth})
            self.vlm_asked.append(question)
        held = False
        while self._vlm_holding():  # the caller is meant to be killed meanwhile
            held = True
            await asyncio.sleep(0.05)
        if held:
            return web.json_response({"error": {"message": "released after a hang"}}, status=503)
        with self._lock:
            self.vlm_answered += 1
        return _json({
            "id": "chatcmpl-vlm", "object": "chat.completion", "created": 0,
            "model": self.served_model,
            "choices": [{"index": 0,
                         "finish_reason": "length" if question in self.vlm_cut else "stop",
                         "message": {"role": "assistant",
                                     "content": self.vlm_script.get(question, "I cannot tell.")}}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}})

    def _vlm_holding(self) -> bool:
        limit = self._hold_vlm_after
        return limit is not None and not self._stopping and self.vlm_answered >= limit

    def hold_vlm_after(self, answers: int) -> None:
        """Vision requests after the ``answers``-th reply hang until ``release_vlm()``."""
        self._hold_vlm_after = answers

    def release_vlm(self) -> None:
        self._hold_vlm_after = None

    async def gemini(self, request: web.Request) -> web.Response:
        body = self.bodies["gemini"] = await request.json()
        self.all_bodies["gemini"].append(body)
        user = body["contents"][-1]["parts"][0]["text"]
        asked_json = (body.get("generationConfig") or {}).get("responseMimeType") == \
            "application/json"
        status, text, extra = await self._reply(
            "gemini", user, {"auth": request.headers.get("x-goog-api-key")}, asked_json)
        if status != 200:
            error = {"error": {"code": status, "message": text, "status": "UNAVAILABLE"}}
            return web.json_response(error, status=status, headers=extra)
        candidate = ({"content": {"parts": [{"text": text}], "role": "model"},
                      "finishReason": "STOP"} if text is not None else {"finishReason": "SAFETY"})
        return _json({
            "candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 60, "candidatesTokenCount": 1,
                              "totalTokenCount": 61}})

    async def dashscope(self, request: web.Request) -> web.Response:
        body = self.bodies["dashscope"] = await request.json()
        self.all_bodies["dashscope"].append(body)
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        status, text, extra = await self._reply(
            "dashscope", body["input"]["messages"][-1]["content"], {"auth": key},
            bool((body.get("parameters") or {}).get("response_format")))
        if status != 200:
            error = {"code": "Throttling" if status == 429 else "Error", "message": text,
                     "request_id": "fake"}
            return web.json_response(error, status=status, headers=extra)
        content = text if text is not None else "I'm sorry, but I can't assist with that."
        return _json({
            "output": {"choices": [{"finish_reason": "stop",
                                    "message": {"role": "assistant", "content": content}}]},
            "usage": {"input_tokens": 70, "output_tokens": 1, "total_tokens": 71},
            "request_id": "fake"})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.requests,
                                  "asked": [[k[0], k[1], n] for k, n in self.asked.items()],
                                  "answered": sum(self.answered.values())})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.openai)
        for version in ("v1", "v1beta"):  # google-genai 3.x calls v1, older releases v1beta
            app.router.add_post(f"/{version}/models/{{model_action}}", self.gemini)
        app.router.add_post("/api/v1/services/aigc/text-generation/generation", self.dashscope)
        app.router.add_get("/stats", self.stats)
        return app

    # ---------------------------------------------------------------- serving
    @property
    def urls(self) -> dict[str, str]:
        root = f"http://127.0.0.1:{self.port}"
        return {"openai": f"{root}/v1", "gemini": root, "qwen": f"{root}/api/v1"}

    async def _serve(self, port: int) -> web.AppRunner:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return runner

    def start(self) -> FakeLLMServer:
        """Serve from a daemon thread with its own event loop."""
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._runner = self._loop.run_until_complete(self._serve(0))
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        self._stopping = True
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def _json(payload: dict) -> web.Response:
    """A JSON reply whose NONUTF8 marker becomes bytes that are not UTF-8."""
    body = json.dumps(payload).encode("utf-8").replace(NONUTF8.encode(), b"\xff\xfe\x80")
    return web.Response(body=body, content_type="application/json")


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = FakeLLMServer(latency_s=args.latency)

    async def serve() -> None:
        await server._serve(args.port)
        print(server.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main(sys.argv[1:])
