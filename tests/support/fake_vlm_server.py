"""A loopback OpenAI-compatible VLM: answers each question with the reply a test scripted for it.

``script`` maps a question's text to the reply; the question is the last text part of the user
message (hf_vlm's layout, which openai_vlm sends). ``answered`` counts replies sent;
``hold_after(n)`` makes requests after the n-th reply hang (a job about to be killed), until
``release()``.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeVLMServer:
    def __init__(self, script: dict[str, str]) -> None:
        self.script = script
        self.answered = 0
        self.asked: list[str] = []
        self._hold_after: int | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                texts = [p["text"] for p in body["messages"][-1]["content"] if p["type"] == "text"]
                question = texts[-1]
                with server._lock:
                    server.asked.append(question)
                held = False
                while server._holding():  # the caller is meant to be killed meanwhile
                    held = True
                    time.sleep(0.05)
                if held:
                    self.send_error(503, "released after a hang")
                    return
                reply = server.script.get(question, "I cannot tell.")
                with server._lock:
                    server.answered += 1
                data = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": "fake-vlm",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 3,
                              "total_tokens": 103}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _holding(self) -> bool:
        return self._hold_after is not None and self.answered >= self._hold_after

    def hold_after(self, answers: int) -> None:
        self._hold_after = answers

    def release(self) -> None:
        self._hold_after = None

    def start(self) -> FakeVLMServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
