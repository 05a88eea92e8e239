#!/usr/bin/env python3
# mock-mcp-server.py
#
# Copyright 2026 The Confab developers
# SPDX-License-Identifier: GPL-3.0-or-later
"""An MCP server for Confab's tests: newline-delimited JSON-RPC 2.0 on
stdin/stdout, Python standard library only.

Tools: echo {text, image?}, sleep {seconds}, crash, garbage, fail, pid,
add_tool {name}. Requests are answered concurrently (sleep runs in a
thread); notifications/cancelled drops the cancelled call's reply.

Options:
  --protocol VERSION   answer initialize with this protocolVersion
  --page-size N        list tools N per page, with nextCursor
  --log-requests FILE  append every message received, one JSON per line
  --ping-client        after notifications/initialized, send the client a
                       ping and an unknown request (their answers are logged)
  --grandchild         start a child process in the server's process group
                       and print "grandchild PID" on stderr
  --ignore-stdin-eof   keep running when stdin closes
  --ignore-sigterm     ignore SIGTERM
  --stderr TEXT        print TEXT on stderr at start
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading

LATEST = "2025-11-25"
SUPPORTED = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

out_lock = threading.Lock()
log_lock = threading.Lock()
cancel_events = {}
tools = [
    {"name": "echo", "description": "Echo the text back.\nA second line.",
     "inputSchema": {"type": "object", "properties": {"text": {"type": "string"},
                                                      "image": {"type": "boolean"}},
                     "required": ["text"]}},
    {"name": "sleep", "description": "Wait for a number of seconds.",
     "inputSchema": {"type": "object", "properties": {"seconds": {"type": "number"}}}},
    {"name": "crash", "description": "Exit with status 3."},
    {"name": "garbage", "description": "Write a line that is not JSON.",
     "inputSchema": {"type": "object"}},
    {"name": "fail", "description": "Return a result with isError.",
     "inputSchema": "not a schema"},
    {"name": "pid", "description": "Return the server's process id.",
     "inputSchema": {"type": "object"}},
    {"name": "add_tool", "description": "Add a tool and say the list changed.",
     "inputSchema": {"type": "object", "properties": {"name": {"type": "string"}}}},
]
options = None


def send(message):
    line = json.dumps(message, separators=(",", ":")) + "\n"
    with out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def log(message):
    if options.log_requests:
        with log_lock, open(options.log_requests, "a", encoding="utf-8") as f:
            f.write(json.dumps(message, separators=(",", ":")) + "\n")


def result(request_id, value):
    send({"jsonrpc": "2.0", "id": request_id, "result": value})


def error(request_id, code, message):
    send({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def text_result(text, is_error=False):
    value = {"content": [{"type": "text", "text": text}]}
    if is_error:
        value["isError"] = True
    return value


def sleep_call(request_id, seconds, event):
    if event.wait(seconds):
        return  # cancelled: the reply is dropped
    cancel_events.pop(request_id, None)
    result(request_id, text_result("slept %g" % seconds))


def call_tool(request_id, params):
    name = params.get("name")
    args = params.get("arguments") or {}
    if name == "echo":
        value = text_result(args.get("text", ""))
        value["structuredContent"] = {"text": args.get("text", "")}
        if args.get("image"):
            value["content"].append({"type": "image", "mimeType": "image/png", "data": "iVBO"})
        result(request_id, value)
    elif name == "sleep":
        event = threading.Event()
        cancel_events[request_id] = event
        threading.Thread(target=sleep_call, args=(request_id, float(args.get("seconds", 1)), event),
                         daemon=True).start()
    elif name == "crash":
        sys.stderr.write("mock-mcp-server: crashing as asked\n")
        sys.stderr.flush()
        os._exit(3)
    elif name == "garbage":
        with out_lock:
            sys.stdout.write("this is not JSON\n")
            sys.stdout.flush()
    elif name == "fail":
        result(request_id, text_result("it failed as asked", is_error=True))
    elif name == "pid":
        result(request_id, text_result(str(os.getpid())))
    elif name == "add_tool":
        new_name = args.get("name", "added")
        tools.append({"name": new_name, "description": "Added at run time.",
                      "inputSchema": {"type": "object"}})
        result(request_id, text_result("added " + new_name))
        send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
    else:
        error(request_id, -32602, "Unknown tool: %s" % name)


def list_tools(request_id, params):
    if not options.page_size:
        result(request_id, {"tools": tools})
        return
    start = int(params.get("cursor") or 0)
    end = start + options.page_size
    value = {"tools": tools[start:end]}
    if end < len(tools):
        value["nextCursor"] = str(end)
    result(request_id, value)


def handle(message):
    log(message)
    method = message.get("method")
    request_id = message.get("id")
    params = message.get("params") or {}

    if method is None:
        return  # an answer to one of our requests: logged above
    if method == "initialize":
        version = options.protocol or (params.get("protocolVersion")
                                       if params.get("protocolVersion") in SUPPORTED else LATEST)
        result(request_id, {"protocolVersion": version,
                            "capabilities": {"tools": {"listChanged": True}},
                            "serverInfo": {"name": "mock-mcp-server", "version": "1.0"}})
    elif method == "notifications/initialized":
        if options.ping_client:
            send({"jsonrpc": "2.0", "id": "ping-1", "method": "ping"})
            send({"jsonrpc": "2.0", "id": "unknown-1", "method": "sampling/createMessage", "params": {}})
    elif method == "notifications/cancelled":
        event = cancel_events.pop(params.get("requestId"), None)
        if event is not None:
            event.set()
    elif method == "tools/list":
        list_tools(request_id, params)
    elif method == "tools/call":
        call_tool(request_id, params)
    elif method == "ping":
        result(request_id, {})
    elif request_id is not None:
        error(request_id, -32601, "Method not found: %s" % method)


def main():
    global options
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol")
    parser.add_argument("--page-size", type=int, default=0)
    parser.add_argument("--log-requests")
    parser.add_argument("--ping-client", action="store_true")
    parser.add_argument("--grandchild", action="store_true")
    parser.add_argument("--ignore-stdin-eof", action="store_true")
    parser.add_argument("--ignore-sigterm", action="store_true")
    parser.add_argument("--stderr")
    options = parser.parse_args()

    if options.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if options.stderr:
        sys.stderr.write(options.stderr + "\n")
        sys.stderr.flush()
    if options.grandchild:
        child = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sys.stderr.write("grandchild %d\n" % child.pid)
        sys.stderr.flush()

    for line in sys.stdin.buffer:
        line = line.strip()
        if line:
            handle(json.loads(line))

    if options.ignore_stdin_eof:
        threading.Event().wait()


if __name__ == "__main__":
    main()
