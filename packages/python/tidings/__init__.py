"""Tidings for Python: the gateway's HTTP API, connection tokens and webhooks, standard library only.

    from tidings import Tidings
    offset, epoch = Tidings("http://127.0.0.1:7070", API_KEY).publish("jobs:42", {"progress": 40})

See docs/python.md.
"""
__version__ = "0.1.0"

from .aio import AsyncTidings
from .channels import channel_user_id, personal_channel
from .client import Tidings
from .errors import (
    BadRequest,
    ErrorCode,
    InvalidResponse,
    NetworkError,
    NotFound,
    ServerError,
    TidingsError,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from .tokens import sign_token
from .types import BatchResult, BroadcastResult, History, Position
from .webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "AsyncTidings",
    "BadRequest",
    "BatchResult",
    "BroadcastResult",
    "ErrorCode",
    "History",
    "InvalidResponse",
    "NetworkError",
    "NotFound",
    "Position",
    "ServerError",
    "TidingsError",
    "TooManyRequests",
    "Tidings",
    "Unauthorized",
    "Unavailable",
    "WebhookVerificationError",
    "channel_user_id",
    "personal_channel",
    "sign_token",
    "verify_webhook",
]
