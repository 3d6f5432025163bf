"""Values returned by the API calls."""
from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional

from .errors import TidingsError


class Position(NamedTuple):
    """A place in a channel's stream: ``offset, epoch = client.publish(...)``."""

    offset: int
    epoch: str


class BroadcastResult(NamedTuple):
    """One channel's outcome in a broadcast: a position, or the error for that channel."""

    channel: str
    offset: Optional[int]
    epoch: Optional[str]
    error: Optional[TidingsError]

    @property
    def ok(self) -> bool:
        return self.error is None


class BatchResult(NamedTuple):
    """One publication's outcome in a batch, in the order given: a position, or the error for that item."""

    #: The item's channel, or None for an item sent to a ``user``.
    channel: Optional[str]
    #: The item's user, or None for an item sent to a ``channel``.
    user: Optional[str]
    offset: Optional[int]
    epoch: Optional[str]
    error: Optional[TidingsError]

    @property
    def ok(self) -> bool:
        return self.error is None


class History(NamedTuple):
    """The stream's current position and the publications asked for (dicts as the API sends them)."""

    epoch: str
    offset: int
    publications: List[Dict[str, Any]]
