"""Typed errors of the Tidings HTTP API.

Every API error carries the HTTP ``status`` and the protocol ``code`` from the
answer's body (``{"error": {"code", "message"}}``, docs/api.md), so a caller can
catch a family (``except BadRequest``) or branch on the exact code.
"""
from __future__ import annotations

import enum
from typing import Optional


class ErrorCode(enum.IntEnum):
    """The protocol's error codes (docs/protocol.md, "Error codes")."""

    INTERNAL = 100
    UNAUTHORIZED = 101
    UNKNOWN_CHANNEL = 102
    PERMISSION_DENIED = 103
    METHOD_NOT_FOUND = 104
    ALREADY_SUBSCRIBED = 105
    LIMIT_EXCEEDED = 106
    BAD_REQUEST = 107
    NOT_AVAILABLE = 108
    TOKEN_EXPIRED = 109
    NOT_CONNECTED = 110
    TOO_MANY_REQUESTS = 111
    UNAVAILABLE = 113
    RPC_FAILED = 114
    CANCELLED = 115


class TidingsError(Exception):
    """Base of every error this package raises for a failed call.

    ``status`` is the HTTP status (None when no answer came), ``code`` the
    protocol error code (None when the answer had none), ``retry_after`` the
    seconds of a ``Retry-After`` header, if any.
    """

    #: Whether the same call may simply be repeated later.
    retryable = False

    def __init__(self, message: str, status: Optional[int] = None, code: Optional[int] = None, retry_after: Optional[float] = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [f"HTTP {self.status}" if self.status is not None else None, f"code {self.code}" if self.code is not None else None]
        prefix = ", ".join(p for p in parts if p)
        return f"{self.message} ({prefix})" if prefix else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r})"


class BadRequest(TidingsError):
    """400 or 413: invalid parameters, channel name or body (codes 102, 107, 108)."""


class Unauthorized(TidingsError):
    """401: missing or wrong API key (code 101)."""


class NotFound(TidingsError):
    """404: no such API route (code 104); the gateway may be older than this SDK."""


class TooManyRequests(TidingsError):
    """429: rate limited (code 111). Retried automatically."""

    retryable = True


class Unavailable(TidingsError):
    """503: the gateway's engine (e.g. Redis) is unreachable (code 113). Retried automatically."""

    retryable = True


class ServerError(TidingsError):
    """Any other 5xx answer (code 100 when the gateway failed internally)."""


class NetworkError(TidingsError):
    """No answer: connection refused or reset, or the timeout passed. Retried automatically.

    ``request_sent`` is False when the request surely never reached the gateway
    (the connection could not be made).
    """

    retryable = True

    def __init__(self, message: str, request_sent: bool = True):
        super().__init__(message)
        self.request_sent = request_sent


class InvalidResponse(TidingsError):
    """The answer was not the JSON this SDK expects (a proxy in the way, or a different server)."""


_BY_STATUS = {400: BadRequest, 413: BadRequest, 401: Unauthorized, 404: NotFound, 429: TooManyRequests, 503: Unavailable}
_BY_CODE = {101: Unauthorized, 102: BadRequest, 104: NotFound, 107: BadRequest, 108: BadRequest, 111: TooManyRequests, 113: Unavailable}


def error_for(status: Optional[int], code: Optional[int], message: str, retry_after: Optional[float] = None) -> TidingsError:
    """The typed error for an HTTP status (first) or, without one, a protocol code."""
    cls = _BY_STATUS.get(status) if status is not None else None
    if cls is None and status is not None and status >= 500:
        cls = ServerError
    if cls is None and code is not None:
        cls = _BY_CODE.get(code)
    return (cls or TidingsError)(message, status=status, code=code, retry_after=retry_after)
