#!/usr/bin/env python3
"""Receive the gateway's webhooks with the standard library and the Tidings SDK.

    export TIDINGS_WEBHOOK_SECRET=...        # the same secret as the gateway's webhooks.secret
    PYTHONPATH=packages/python python3 examples/python/webhook_receiver.py [PORT]

Listens on 127.0.0.1:PORT (default 8000) for POST /webhooks/tidings; point the
gateway at it with TIDINGS_WEBHOOK_URL=http://127.0.0.1:8000/webhooks/tidings.
Each request is checked with tidings.verify_webhook (signature and a 300 s
replay window) and refused with 401 when it fails. Delivery is at least once,
so events are deduplicated by their id before handle_event sees them, which
here prints each one as a JSON line. Answering 2xx tells the gateway the batch
is done; any other answer makes it send the same batch again later.
"""
import json
import os
import sys
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

from tidings import WebhookVerificationError, verify_webhook

PATH = "/webhooks/tidings"
MAX_BODY = 10 * 1024 * 1024
SEEN_MAX = 100_000  # ids remembered for deduplication (the oldest are forgotten first)

SECRET = os.environ.get("TIDINGS_WEBHOOK_SECRET", "")
_seen = OrderedDict()
_seen_lock = Lock()


def handle_event(event):
    """Your application's part: update a room's state, notify someone, store a message..."""
    print(json.dumps(event, sort_keys=True), flush=True)


def first_time(event_id):
    """True the first time an id is seen (a retried batch repeats ids already handled)."""
    with _seen_lock:
        if event_id in _seen:
            return False
        _seen[event_id] = True
        if len(_seen) > SEEN_MAX:
            _seen.popitem(last=False)
        return True


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != PATH:
            return self.answer(404, "not found")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.answer(413, "too large")
        body = self.rfile.read(length)  # the raw bytes: the signature covers them exactly
        try:
            payload = verify_webhook(SECRET, body, self.headers)
        except WebhookVerificationError as exc:
            return self.answer(401, str(exc))
        for event in payload.get("events", []):
            if first_time(event["id"]):
                handle_event(event)
        self.answer(204)

    def answer(self, status, text=""):
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass  # stdout carries the events; keep it clean


def main():
    if len(SECRET) < 16:
        print("set TIDINGS_WEBHOOK_SECRET (at least 16 characters), as in the gateway's config", file=sys.stderr)
        return 2
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    server = ThreadingHTTPServer(("127.0.0.1", port), WebhookHandler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}{PATH}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
