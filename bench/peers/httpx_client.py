#!/usr/bin/python3
"""Peer client: Python asyncio + httpx, the way a typical user's script streams.

Usage: /usr/bin/python3 httpx_client.py --format openai|ollama BASE_URL [PROMPT]

BASE_URL is what confab-cli gets: http://host:port/v1 for --format openai
(POST BASE_URL/chat/completions, SSE) and http://host:port for --format ollama
(POST BASE_URL/api/chat, NDJSON).  Reads the body line by line with
`async for ... aiter_lines()`, json.loads() every SSE data: line / NDJSON
line, and writes the content deltas to (buffered) stdout: exactly the
assistant text.
"""

import argparse
import asyncio
import json
import sys

import httpx


async def run(fmt, base, prompt):
    body = {"model": "bench-model",
            "messages": [{"role": "user", "content": prompt}],
            "stream": True}
    if fmt == "openai":
        url = base.rstrip("/") + "/chat/completions"
        headers = {"Authorization": "Bearer bench"}
    else:
        url = base.rstrip("/") + "/api/chat"
        headers = {}
    write = sys.stdout.write
    async with httpx.AsyncClient(timeout=None) as client:
        async with client.stream("POST", url, json=body, headers=headers) as resp:
            resp.raise_for_status()
            if fmt == "openai":
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    choices = chunk.get("choices")
                    if choices:
                        content = choices[0].get("delta", {}).get("content")
                        if content:
                            write(content)
            else:
                async for line in resp.aiter_lines():
                    if not line.strip():
                        continue
                    chunk = json.loads(line)
                    content = chunk.get("message", {}).get("content")
                    if content:
                        write(content)
                    if chunk.get("done"):
                        break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format", choices=["openai", "ollama"], required=True)
    ap.add_argument("base_url")
    ap.add_argument("prompt", nargs="?", default="Stream the benchmark text.")
    args = ap.parse_args()
    # Write exactly the bytes received: UTF-8, no newline translation.
    sys.stdout.reconfigure(encoding="utf-8", newline="")
    asyncio.run(run(args.format, args.base_url, args.prompt))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
