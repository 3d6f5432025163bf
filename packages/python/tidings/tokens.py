"""Connection tokens (HS256 JWT) signed with the standard library."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Optional, Sequence, Union


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sign_token(secret: Union[str, bytes], sub: str, channels: Optional[Sequence[str]] = None, ttl: Optional[int] = 3600, **claims: Any) -> str:
    """A connection token the gateway accepts with ``token.hmacSecret = secret``.

    ``sub`` is the user id. ``channels`` grants channels in namespaces with
    ``subscribe: "claims"``. ``ttl`` is the lifetime in seconds (``None`` or 0:
    no ``exp``). Any other claim goes in as given: ``info={...}`` (shown in
    presence), ``aud=``/``iss=`` when the gateway checks them, or ``exp=``/``iat=``
    to override the computed ones.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not isinstance(key, bytes) or not key:
        raise ValueError("secret must be a non-empty str or bytes")
    if not isinstance(sub, str) or not sub:
        raise ValueError("sub must be a non-empty string")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0):
        raise ValueError(f"ttl must be a whole number of seconds >= 0, or None, got {ttl!r}")
    now = int(time.time())
    payload: dict = {"sub": sub, "iat": now}
    if ttl:
        payload["exp"] = now + ttl
    if channels is not None:
        if isinstance(channels, str) or not all(isinstance(c, str) and c for c in channels):
            raise ValueError("channels must be a list of channel names")
        payload["channels"] = list(channels)
    payload.update(claims)
    signing_input = _b64url(_compact_json({"alg": "HS256", "typ": "JWT"})) + "." + _b64url(_compact_json(payload))
    signature = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + _b64url(signature)
