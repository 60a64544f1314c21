"""A local HTTP server that speaks the OpenAI chat-completions protocol and replays a script.

For tests only. Each scripted reply is one of:

* a string: a 200 answer with that content (``finish_reason`` "stop");
* ``Reply(content=..., status=..., delay=..., finish_reason=..., headers=...)`` for errors,
  slow answers, truncated answers (``finish_reason="length"``) and rate limits;
* ``Reply(body=..., content_type=...)``: that body sent as it is (broken gateways, non-JSON
  or wrongly shaped answers).

The server checks the bearer key when one is expected (401 otherwise, echoing the key it got,
as real servers partly do, so tests prove lester never leaks it) and records every request.

    with OpenAIServer(["```python\\n...```"], api_key="sk-test") as server:
        server.base_url  # "http://127.0.0.1:PORT/v1"
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay: float = 0.0
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # sent verbatim instead of a chat-completion JSON
    content_type: str = "application/json"


class OpenAIServer:
    def __init__(self, replies: list[str | Reply], *, api_key: str | None = None):
        self.replies = [r if isinstance(r, Reply) else Reply(r) for r in replies]
        self.api_key = api_key
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                # OpenAI sends "Authorization: Bearer KEY", Azure OpenAI "api-key: KEY"
                key = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                key = key or (self.headers.get("api-key") or "").strip()
                path = self.path.split("?")[0]
                with owner._lock:
                    owner.requests.append({"path": path, "query": self.path.partition("?")[2],
                                           "body": body, "key": key})
                    if owner.api_key is not None and key != owner.api_key:
                        reply = Reply(status=401, content=f"Incorrect API key provided: {key}")
                    elif not path.endswith("/chat/completions"):
                        reply = Reply(status=404, content=f"no route {path}")
                    elif owner.replies:
                        reply = owner.replies.pop(0)
                    else:
                        reply = Reply(status=500, content="the scripted replies are used up")
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.body is not None:
                    payload = None
                elif reply.status == 200:
                    payload = {
                        "id": f"chatcmpl-{len(owner.requests)}", "object": "chat.completion",
                        "created": int(time.time()), "model": body.get("model", "test-model"),
                        "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                                     "message": {"role": "assistant", "content": reply.content}}],
                        "usage": {"prompt_tokens": sum(len(m["content"]) // 4 for m in body.get("messages", [])),
                                  "completion_tokens": len(reply.content) // 4,
                                  "total_tokens": 0},
                    }
                else:
                    payload = {"error": {"message": reply.content, "type": "test", "code": reply.status}}
                data = reply.body.encode() if payload is None else json.dumps(payload).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> OpenAIServer:  # noqa: PYI034 - typing.Self needs Python 3.11
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
