"""Prints tokens made by sign_token, one JSON object, for the vitest driver to connect with.

    TIDINGS_SECRET=... python3 packages/python/tests/print_tokens.py
"""
import json
import os
import time

from tidings import sign_token

secret = os.environ["TIDINGS_SECRET"]
print(json.dumps({
    "good": sign_token(secret, "py-user", channels=["jobs:py-1"], info={"name": "Py"}, aud="tidings-test", iss="py-backend"),
    "no_audience": sign_token(secret, "py-user", iss="py-backend"),
    "expired": sign_token(secret, "py-user", aud="tidings-test", iss="py-backend", exp=int(time.time()) - 120),
    "wrong_secret": sign_token(secret + "-not", "py-user", aud="tidings-test", iss="py-backend"),
}))
