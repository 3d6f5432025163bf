"""What both transports share: the target, the headers, reading an answer, and the retry policy."""
from __future__ import annotations

import json
import random
from typing import Any, Mapping, NamedTuple, Optional
from urllib.parse import quote, urlsplit

from . import __version__
from ._calls import Call
from .errors import InvalidResponse, NetworkError, TidingsError, error_for

USER_AGENT = f"tidings-python/{__version__}"


class Target(NamedTuple):
    scheme: str
    host: str
    port: int
    #: Path prefix when the gateway sits under one behind a proxy ("" otherwise).
    base: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url must be http(s)://host[:port][/prefix], got {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Target(parts.scheme, parts.hostname, port, quote(parts.path.rstrip("/"), safe="/%:@!$&'()*+,;=-._~"))


class Settings(NamedTuple):
    """What a client is constructed with, checked: the same for the blocking and the asyncio client."""

    target: Target
    api_key: str
    timeout: float
    policy: "RetryPolicy"


def settings(url: str, api_key: str, timeout: float, retries: int, backoff: float, max_backoff: float) -> Settings:
    check_settings(api_key, timeout, retries, backoff, max_backoff)
    return Settings(parse_url(url), api_key, timeout, RetryPolicy(retries, backoff, max_backoff))


def check_settings(api_key: str, timeout: float, retries: int, backoff: float, max_backoff: float) -> None:
    """Refuse settings that cannot work, before any request (a newline in the key would split the headers)."""
    if not isinstance(api_key, str) or not api_key or any(c in api_key for c in "\r\n\0"):
        raise ValueError("api_key must be a non-empty string on one line")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
    if not timeout > 0 or backoff < 0 or max_backoff < 0:
        raise ValueError("timeout must be > 0, backoff and max_backoff >= 0")


def headers_for(target: Target, api_key: str, call: Call) -> Mapping[str, str]:
    headers = {
        "Host": target.host_header,
        "Authorization": f"apikey {api_key}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    if call.body is not None:
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(call.body))
    return headers


def retry_after_seconds(value: Optional[str]) -> Optional[float]:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: ignored, the backoff applies


def read_answer(call: Call, status: int, body: bytes, retry_after: Optional[str]) -> Any:
    """The call's value for a 2xx answer; the typed error otherwise."""
    try:
        parsed = json.loads(body.decode("utf-8")) if body.strip() else {}
    except ValueError:
        parsed = None
    if 200 <= status < 300:
        if parsed is None:
            raise InvalidResponse(f"answer is not JSON: {body[:200]!r}", status=status)
        return call.read(parsed)
    err = parsed.get("error") if isinstance(parsed, dict) else None
    code = err.get("code") if isinstance(err, dict) and isinstance(err.get("code"), int) else None
    message = str(err.get("message")) if isinstance(err, dict) and "message" in err else body[:200].decode("utf-8", "replace") or f"HTTP {status}"
    raise error_for(status, code, message, retry_after_seconds(retry_after))


class RetryPolicy(NamedTuple):
    retries: int
    backoff: float
    max_backoff: float

    def should_retry(self, err: TidingsError, attempt: int, call: Call) -> bool:
        """Retry 503, 429 and network failures; a non-idempotent call only when the gateway surely did not act on it."""
        if attempt >= self.retries or not err.retryable:
            return False
        if call.idempotent or err.status is not None:  # a 503 or 429 was refused before anything happened
            return True
        return isinstance(err, NetworkError) and not err.request_sent

    def wait_or_raise(self, err: TidingsError, attempt: int, call: Call) -> float:
        """The pause before the next try; raises ``err`` when the call must not be retried."""
        if not self.should_retry(err, attempt, call):
            raise err
        return self.delay(attempt, err)

    def delay(self, attempt: int, err: TidingsError) -> float:
        """Full-jitter exponential backoff; a Retry-After is honoured up to ``max_backoff``."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** attempt))
        wait = random.uniform(0, ceiling)
        if err.retry_after is not None:
            wait = max(wait, min(err.retry_after, self.max_backoff))
        return wait
