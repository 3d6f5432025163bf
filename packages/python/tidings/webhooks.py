"""Verifying the gateway's signed webhooks.

The gateway sends each webhook with two headers:

    Tidings-Webhook-Id: <id>           (deduplicate deliveries with it)
    Tidings-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

While a secret is being rotated the signature header holds one ``v1=`` per
secret; any one that matches passes.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

SIGNATURE_HEADER = "Tidings-Signature"
ID_HEADER = "Tidings-Webhook-Id"

Secret = Union[str, bytes]
_DIGITS = re.compile(r"[0-9]{1,12}")


class WebhookVerificationError(ValueError):
    """The webhook is not from the gateway, was altered, or is too old (a possible replay)."""


def verify_webhook(
    secret: Union[Secret, Sequence[Secret]],
    body: Union[bytes, bytearray, str],
    headers: Any,
    tolerance: int = 300,
    *,
    now: Optional[float] = None,
) -> Any:
    """Check a webhook's signature and age; return its parsed JSON body.

    ``body`` must be the raw request body, exactly as received (not re-encoded
    JSON). ``headers`` is any mapping of header names to values (a dict,
    Flask's ``request.headers``, Starlette's ``request.headers``); names are
    matched case-insensitively. ``secret`` may be a list: the receiving side of
    a secret rotation accepts both. ``tolerance`` is the replay window in
    seconds, either side of ``now``. Raises :class:`WebhookVerificationError`.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    header = _header(headers, SIGNATURE_HEADER)
    if not header:
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_signature(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(f"timestamp {timestamp} is outside the {tolerance} s tolerance")
    signed = str(timestamp).encode("ascii") + b"." + raw
    expected = [hmac.new(key, signed, hashlib.sha256).hexdigest() for key in _keys(secret)]
    # Every pair is compared, in constant time, so the time taken does not tell which matched.
    matched = False
    for given in signatures:
        for want in expected:
            matched |= hmac.compare_digest(given.encode("utf-8"), want.encode("ascii"))
    if not matched:
        raise WebhookVerificationError("no signature matches")
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise WebhookVerificationError(f"body is not JSON: {exc}") from None


def _keys(secret: Union[Secret, Sequence[Secret]]) -> List[bytes]:
    items: Iterable[Any] = [secret] if isinstance(secret, (str, bytes)) else secret
    keys = [s.encode("utf-8") if isinstance(s, str) else s for s in items]
    if not keys or not all(isinstance(k, bytes) and k for k in keys):
        raise ValueError("secret must be a non-empty str or bytes, or a list of them")
    return keys


def _header(headers: Any, name: str) -> Optional[str]:
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if callable(getter):
        value = getter(name)
        if value is not None:
            return _one(value)
    items = headers.items() if isinstance(headers, Mapping) or hasattr(headers, "items") else headers
    wanted = name.lower()
    for key, value in items:
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if key.lower() == wanted:
            return _one(value)
    return None


def _one(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (list, tuple)):
        return ",".join(_one(v) for v in value)
    return str(value)


def _parse_signature(header: str) -> Tuple[int, List[str]]:
    timestamp: Optional[int] = None
    signatures: List[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if timestamp is not None or not _DIGITS.fullmatch(value):
                raise WebhookVerificationError(f"malformed timestamp in {SIGNATURE_HEADER}")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value.lower())
        # other schemes (v2=...) are for newer receivers: ignored
    if timestamp is None:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} has no t=")
    if not signatures:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} has no v1= signature")
    return timestamp, signatures
