#!/usr/bin/env python3
"""Publish to a Tidings channel from Python with the standard library only.

    export TIDINGS_API_KEY=$(npx tidings dev-secrets api-key)   # a local dev gateway's key
    python3 examples/python/publish.py jobs:42 '{"stage": "transcribing", "progress": 40}' [IDEMPOTENCY_KEY]
    echo '[{"channel": "jobs:41", "data": {"progress": 40}}, {"channel": "jobs:42", "data": {"progress": 15}}]' \
      | python3 examples/python/publish.py --batch

Prints the publication's position, e.g. {"offset": 3, "epoch": "Zk3x..."}; with
--batch, one publication per item of the JSON array on stdin (each {channel or
user, data, idempotencyKey?}), in one request, and one result per item in
order: a position, or {"error": {"code", "message"}} for an item refused alone.
The gateway is TIDINGS_URL, else http://127.0.0.1:$TIDINGS_PORT (default 7070).
A 503 means the gateway's engine is unavailable: the call is safe to retry,
and with an idempotency key a retry never publishes twice.
Exit codes, as the tidings CLI: 0 done, 1 refused, 2 usage, 3 unreachable.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid


class PublishError(Exception):
    """A failure with a one-line message and the exit code it maps to."""

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code


def gateway_url():
    url = os.environ.get("TIDINGS_URL") or f"http://127.0.0.1:{os.environ.get('TIDINGS_PORT') or 7070}"
    return url.rstrip("/")


def api_key_from_env():
    key = os.environ.get("TIDINGS_API_KEY")
    if not key:
        raise PublishError(
            "TIDINGS_API_KEY is not set; for a local development gateway run: "
            "export TIDINGS_API_KEY=$(npx tidings dev-secrets api-key)",
            2,
        )
    return key


def publish(channel, data, *, url=None, api_key=None, idempotency_key=None, retries=3):
    body = {"channel": channel, "data": data}
    if idempotency_key:
        body["idempotencyKey"] = idempotency_key
    return post("/api/publish", body, url=url, api_key=api_key, retries=retries)


def publish_batch(publications, *, url=None, api_key=None, retries=3):
    """Up to 1,000 publications in one request; every item gets an idempotency key, so a retry publishes nothing twice."""
    items = [{"idempotencyKey": uuid.uuid4().hex, **item} for item in publications]
    return post("/api/batch", {"publications": items}, url=url, api_key=api_key, retries=retries)["results"]


def post(path, body, *, url=None, api_key=None, retries=3):
    url = (url or gateway_url()).rstrip("/")
    api_key = api_key or api_key_from_env()
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"apikey {api_key}", "Content-Type": "application/json"},
        method="POST",
    )
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            if err.code != 503 or attempt == retries:
                detail = err.read().decode(errors="replace")
                raise PublishError(f"{url}{path} answered HTTP {err.code} {detail}", 3 if err.code == 503 else 1) from None
        except urllib.error.URLError as err:
            raise PublishError(f"cannot reach the gateway at {url}: {err.reason}", 3) from None
        time.sleep(0.2 * 2**attempt)


def main_batch():
    try:
        publications = json.load(sys.stdin)
    except ValueError as err:
        print(f"publish.py: stdin is not a JSON array of publications ({err})", file=sys.stderr)
        return 2
    if not isinstance(publications, list) or not all(isinstance(p, dict) for p in publications):
        print("publish.py: stdin must be a JSON array of {channel or user, data} objects", file=sys.stderr)
        return 2
    try:
        print(json.dumps(publish_batch(publications)))
    except PublishError as err:
        print(f"publish.py: {err}", file=sys.stderr)
        return err.exit_code
    return 0


def main(argv):
    if argv[1:] == ["--batch"]:
        return main_batch()
    if len(argv) < 3 or len(argv) > 4:
        print(__doc__, file=sys.stderr)
        return 2
    channel, payload = argv[1], argv[2]
    try:
        data = json.loads(payload)
    except ValueError as err:
        print(f"publish.py: the data is not valid JSON ({err}): {payload}", file=sys.stderr)
        return 2
    try:
        print(json.dumps(publish(channel, data, idempotency_key=argv[3] if len(argv) > 3 else None)))
    except PublishError as err:
        print(f"publish.py: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
