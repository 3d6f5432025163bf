#!/usr/bin/env python3
"""Publish to a Tidings channel from Python with the standard library only.

    TIDINGS_URL=http://127.0.0.1:7070 TIDINGS_API_KEY=... \
        python3 examples/python/publish.py jobs:42 '{"stage": "transcribing", "progress": 40}'

Prints the publication's position, e.g. {"offset": 3, "epoch": "Zk3x..."}.
A 503 means the gateway's engine is unavailable: the call is safe to retry,
and with an idempotency key a retry never publishes twice.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request


def publish(channel, data, *, url=None, api_key=None, idempotency_key=None, retries=3):
    url = (url or os.environ.get("TIDINGS_URL", "http://127.0.0.1:7070")).rstrip("/")
    api_key = api_key or os.environ["TIDINGS_API_KEY"]
    body = {"channel": channel, "data": data}
    if idempotency_key:
        body["idempotencyKey"] = idempotency_key
    request = urllib.request.Request(
        f"{url}/api/publish",
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
                raise RuntimeError(f"publish failed: HTTP {err.code} {detail}") from None
        time.sleep(0.2 * 2**attempt)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    channel, payload = argv[1], json.loads(argv[2])
    key = argv[3] if len(argv) > 3 else None
    print(json.dumps(publish(channel, payload, idempotency_key=key)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
