"""What the tests share: the real gateway's address (from the vitest driver) and a scripted HTTP front for it.

test/python-sdk.test.ts starts a gateway on 127.0.0.1 and sets TIDINGS_URL,
TIDINGS_API_KEY and TIDINGS_SECRET; it also connects the WebSocket peers that
the API tests act on (alice, bob-*, carol-*) and checks afterwards what they got.
"""
import http.client
import json
import os
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def gateway():
    """(url, api_key) of the gateway under test; a clear failure when run without the driver."""
    url, key = os.environ.get("TIDINGS_URL"), os.environ.get("TIDINGS_API_KEY")
    if not url or not key:
        raise unittest.SkipTest("needs a gateway: run `npx vitest run test/python-sdk.test.ts` (sets TIDINGS_URL, TIDINGS_API_KEY)")
    return url, key


def unique(prefix):
    return f"{prefix}{time.time_ns()}"


#: Longest a "hang" action keeps a request unanswered, so a failed test cannot block the run.
HANG_SECONDS = 3.0


class Front:
    """A loopback HTTP server in front of the gateway that treats each request per a script.

    Actions, taken in order, then "forward" for every later request:
      forward         pass the request to the gateway and its answer back
      lose_answer     pass it to the gateway, then close the connection without answering
      unavailable     answer 503 (code 113) without passing it on
      hang            answer nothing for a while (HANG_SECONDS), then close
      reset           close the connection without answering, without passing it on
      chunked         forward, and send the answer in chunked transfer encoding
      close_after     forward, answer (keep-alive announced), then close the connection
    """

    def __init__(self, upstream, script=()):
        self.upstream = urlsplit(upstream)
        self.script = list(script)
        self.requests = []  # (method, path, parsed body, action)
        self.connections = 0
        self.forwarded = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def keys(self):
        return [body.get("idempotencyKey") for _, _, body, _ in self.requests]

    def _next_action(self, method, path, body):
        with self._lock:
            action = self.script.pop(0) if self.script else "forward"
            self.requests.append((method, path, body, action))
            return action

    def _forward(self, method, path, raw, headers):
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=10)
        try:
            conn.request(method, path, body=raw if method == "POST" else None, headers={"Authorization": headers.get("Authorization", ""), "Content-Type": "application/json"})
            answer = conn.getresponse()
            with self._lock:
                self.forwarded += 1
            return answer.status, answer.read()
        finally:
            conn.close()

    def _handler(self):
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with front._lock:
                    front.connections += 1

            def log_message(self, *args):
                pass

            def do_GET(self):
                self._serve()

            def do_POST(self):
                self._serve()

            def _serve(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action = front._next_action(self.command, self.path, json.loads(raw) if raw else {})
                if action == "unavailable":
                    return self._answer(503, b'{"error":{"code":113,"message":"engine unavailable, retry later"}}', {"Retry-After": "0"})
                if action == "reset":
                    self.close_connection = True
                    return
                if action == "hang":
                    time.sleep(HANG_SECONDS)
                    self.close_connection = True
                    return
                status, body = front._forward(self.command, self.path, raw, self.headers)
                if action == "lose_answer":
                    self.close_connection = True
                    return
                if action == "chunked":
                    return self._chunked(status, body)
                self._answer(status, body)
                if action == "close_after":
                    self.close_connection = True

            def _answer(self, status, body, extra=()):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in dict(extra).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def _chunked(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                half = len(body) // 2
                for part in (body[:half], body[half:]):
                    if part:
                        self.wfile.write(f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
                self.wfile.flush()

        return Handler
