#!/usr/bin/python3
"""Stand-in for tests/support/confab-test-server, for developing the benchmark.

Same command-line interface and wire shapes as the real test server:

    dev-fake-server.py --openai-tokens N --ollama-tokens N --expected-text FILE

prints exactly one line "http://127.0.0.1:PORT" on stdout, then serves

    POST /v1/chat/completions   OpenAI SSE: one ~220-byte chunk per token, a
                                stop chunk, a usage chunk, "data: [DONE]"
    GET  /v1/models
    POST /api/chat              Ollama NDJSON, the done:true line last
    GET  /api/tags

and exits on SIGTERM or when its stdin reaches EOF.  FILE receives the exact
assistant text that both streams carry.

Both response bodies are built once at start-up (one HTTP/1.1 chunk per
event, as real servers send them) and then written in 16 KiB slices, so the
server spends almost no CPU while a client is being measured.

The real benchmark run uses confab-test-server; this file only exists so the
benchmark script can be developed and checked without it.  Standard library
only; run it with /usr/bin/python3.
"""

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = "bench-model"
CREATED = 1700000000
WRITE_SLICE = 16 * 1024

# A small vocabulary with the things a stream parser must get right:
# JSON escapes (quote, backslash, newline, tab), 2-, 3- and 4-byte UTF-8.
VOCAB = [
    " the", " quick", " brown", " fox", " jumps", " over", " lazy", " dog",
    ",", ".", " Confab", " streams", " tokens", "\n", " caf\u00e9",
    " \"quoted\"", " back\\slash", "\t", " \u2713", " \U0001F600",
    " na\u00efve", " r\u00e9sum\u00e9", " 42", " GNOME",
]


def token(i):
    return VOCAB[(i * 7 + i // len(VOCAB)) % len(VOCAB)]


def dumps(obj):
    # Compact, non-ASCII kept as UTF-8 (as OpenAI and Ollama send it).
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def http_chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def build_openai(n):
    parts = []
    base = {
        "id": "chatcmpl-bench0123456789abcdefghijklmnop",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_bench_0001",
    }
    for i in range(n):
        delta = {"content": token(i)}
        if i == 0:
            delta = {"role": "assistant", "content": token(i)}
        ev = dict(base, choices=[{"index": 0, "delta": delta,
                                  "logprobs": None, "finish_reason": None}])
        parts.append(http_chunk(b"data: " + dumps(ev).encode() + b"\n\n"))
    stop = dict(base, choices=[{"index": 0, "delta": {}, "logprobs": None,
                                "finish_reason": "stop"}])
    parts.append(http_chunk(b"data: " + dumps(stop).encode() + b"\n\n"))
    usage = dict(base, choices=[], usage={"prompt_tokens": 12,
                                          "completion_tokens": n,
                                          "total_tokens": n + 12})
    parts.append(http_chunk(b"data: " + dumps(usage).encode() + b"\n\n"))
    parts.append(http_chunk(b"data: [DONE]\n\n"))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def build_ollama(n):
    parts = []
    for i in range(n):
        ev = {"model": MODEL, "created_at": "2024-01-01T00:00:00.000000Z",
              "message": {"role": "assistant", "content": token(i)},
              "done": False}
        parts.append(http_chunk(dumps(ev).encode() + b"\n"))
    last = {"model": MODEL, "created_at": "2024-01-01T00:00:00.000000Z",
            "message": {"role": "assistant", "content": ""},
            "done": True, "done_reason": "stop",
            "total_duration": 1000000000, "load_duration": 1000000,
            "prompt_eval_count": 12, "prompt_eval_duration": 1000000,
            "eval_count": n, "eval_duration": 900000000}
    parts.append(http_chunk(dumps(last).encode() + b"\n"))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dev-fake-server/1"

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    def _drain_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _json(self, obj):
        body = dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, body, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        view = memoryview(body)
        for off in range(0, len(view), WRITE_SLICE):
            self.wfile.write(view[off:off + WRITE_SLICE])

    def do_GET(self):
        if self.path == "/v1/models":
            self._json({"object": "list", "data": [
                {"id": MODEL, "object": "model", "created": CREATED,
                 "owned_by": "bench"}]})
        elif self.path == "/api/tags":
            self._json({"models": [{"name": MODEL, "model": MODEL,
                                    "size": 1, "digest": "0" * 64}]})
        else:
            self.send_error(404)

    def do_POST(self):
        self._drain_body()
        if self.path == "/v1/chat/completions":
            self._stream(self.server.openai_body, "text/event-stream")
        elif self.path == "/api/chat":
            self._stream(self.server.ollama_body, "application/x-ndjson")
        else:
            self.send_error(404)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--openai-tokens", type=int, required=True)
    ap.add_argument("--ollama-tokens", type=int, required=True)
    ap.add_argument("--expected-text", required=True)
    args = ap.parse_args()
    if args.openai_tokens != args.ollama_tokens:
        # Both streams carry the same text; the file can only hold one.
        sys.exit("dev-fake-server: --openai-tokens and --ollama-tokens must match")

    text = "".join(token(i) for i in range(args.openai_tokens))
    with open(args.expected_text, "w", encoding="utf-8", newline="") as f:
        f.write(text)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.openai_body = build_openai(args.openai_tokens)
    srv.ollama_body = build_ollama(args.ollama_tokens)

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def watch_stdin():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
