"""An app backend that answers the gateway's proxy hooks (docs/backends.md).

Standard library only, in the shape of a FastAPI or Flask app: one small
handler per hook, registered with a decorator. Every request is checked with
the Python SDK's ``verify_webhook`` before a handler sees it.

    TIDINGS_HOOK_SECRET=<hooks.secret of the gateway> python3 examples/python/hooks_backend.py 8000

and in the gateway's config:

    "hooks": {
      "secret": "<the same secret>",
      "forwardCookies": ["session"],
      "connect": {"url": "http://127.0.0.1:8000/hooks/connect"},
      "refresh": {"url": "http://127.0.0.1:8000/hooks/refresh"},
      "namespaces": {
        "jobs": {"subscribe": {"url": "http://127.0.0.1:8000/hooks/subscribe"}},
        "chat": {"publish": {"url": "http://127.0.0.1:8000/hooks/publish"}}
      }
    }
"""
from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict

try:
    import tidings
except ImportError:  # run from a checkout without installing the SDK
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "python"))
    import tidings

SECRET = os.environ["TIDINGS_HOOK_SECRET"]
MAX_BODY = 1_048_576

# Stand-ins for the app's own database.
SESSIONS = {"sess-alice": "alice", "sess-bob": "bob"}  # session cookie -> user
JOB_OWNERS = {"42": "alice", "43": "bob"}  # job id -> the user who started it
messages = []
db_lock = threading.Lock()

Handler = Callable[[Dict[str, Any]], Dict[str, Any]]
routes: Dict[str, Handler] = {}


def post(path: str) -> Callable[[Handler], Handler]:
    """Register a hook handler, as ``@app.post(path)`` would in FastAPI."""

    def register(fn: Handler) -> Handler:
        routes[path] = fn
        return fn

    return register


@post("/hooks/connect")
def connect(req: Dict[str, Any]) -> Dict[str, Any]:
    """A browser with a session cookie and no token: who is it, and which channels does it join?"""
    user = SESSIONS.get(req["cookies"].get("session", ""))
    if user is None:
        return {"error": {"message": "not signed in"}}
    own_jobs = [f"jobs:{job}" for job, owner in JOB_OWNERS.items() if owner == user]
    return {"result": {"user": user, "channels": own_jobs, "info": {"name": user.title()}, "ttl": 3600}}


@post("/hooks/subscribe")
def subscribe(req: Dict[str, Any]) -> Dict[str, Any]:
    """Only the owner of a job may follow its progress."""
    job = req["channel"].partition(":")[2]
    if JOB_OWNERS.get(job) != req["user"]:
        return {"error": {"code": 103, "message": "not your job"}}
    return {"result": {"info": {"role": "owner"}}}


@post("/hooks/publish")
def publish(req: Dict[str, Any]) -> Dict[str, Any]:
    """Store the chat message first; every subscriber gets it with its database id."""
    text = str((req["data"] or {}).get("text", "")).strip()
    if not text:
        return {"error": {"code": 107, "message": "empty message"}}
    with db_lock:
        messages.append({"user": req["user"], "text": text})
        message_id = len(messages)
    return {"result": {"data": {"id": message_id, "user": req["user"], "text": text}}}


@post("/hooks/refresh")
def refresh(req: Dict[str, Any]) -> Dict[str, Any]:
    """Extend the session while the user is still signed in."""
    if req["user"] not in SESSIONS.values():
        return {"error": {"message": "signed out"}}
    return {"result": {"ttl": 3600}}


class HookRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (the http.server name)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._answer(413, {"error": "body too large"})
        body = self.rfile.read(length)
        try:
            req = tidings.verify_webhook(SECRET, body, self.headers)
        except tidings.WebhookVerificationError as exc:
            return self._answer(401, {"error": str(exc)})
        handler = routes.get(self.path)
        if handler is None:
            return self._answer(404, {"error": f"no hook at {self.path}"})
        self._answer(200, handler(req))

    def _answer(self, status: int, payload: Dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet; a real app logs through its framework


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    server = ThreadingHTTPServer(("127.0.0.1", port), HookRequestHandler)
    print(f"hooks backend listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
