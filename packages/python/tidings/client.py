"""The blocking client, on http.client with persistent (keep-alive) connections."""
from __future__ import annotations

import http.client
import itertools
import os
import select
import socket
import ssl
import threading
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from . import _calls
from ._calls import Call, SinceLike
from ._http import Target, headers_for, read_answer, settings
from .errors import NetworkError, TidingsError
from .types import BatchResult, BroadcastResult, History, Position

#: Failures that, on a reused connection before any answer, mean the server had closed it while idle.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _Pool:
    """Idle keep-alive connections, so threads never share one mid-request."""

    def __init__(self, target: Target, timeout: float, ssl_context: Optional[ssl.SSLContext], max_idle: int):
        self._target, self._timeout, self._ssl, self._max_idle = target, timeout, ssl_context, max_idle
        self._idle: List[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self) -> "tuple[http.client.HTTPConnection, bool]":
        with self._lock:
            if self._pid != os.getpid():
                # A forked worker (Celery prefork, gunicorn --preload) must not share its parent's sockets.
                # Closing this process's copies leaves the parent's connections open (no shutdown is sent).
                for conn in self._idle:
                    conn.close()
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                conn = self._idle.pop()
                if _still_open(conn):
                    return conn, True
                conn.close()
        return self.new(), False

    def give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def new(self) -> http.client.HTTPConnection:
        t = self._target
        if t.scheme == "https":
            return http.client.HTTPSConnection(t.host, t.port, timeout=self._timeout, context=self._ssl or ssl.create_default_context())
        return http.client.HTTPConnection(t.host, t.port, timeout=self._timeout)


def _still_open(conn: http.client.HTTPConnection) -> bool:
    """An idle connection with something to read has been closed by the server (or is out of step)."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class Tidings:
    """A client of the gateway's HTTP API (docs/api.md). Thread-safe; reuses connections.

    ``timeout`` bounds connecting and each read, in seconds. ``retries`` is how
    many times a call is repeated after a 503, a 429 or a network failure,
    waiting a full-jitter exponential backoff (``backoff`` doubling up to
    ``max_backoff`` seconds) between tries. Publications always carry an
    idempotency key (yours, or a random one made per call) that every retry
    reuses, so a retry never publishes twice.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        timeout: float = 10.0,
        retries: int = 3,
        *,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        ssl_context: Optional[ssl.SSLContext] = None,
        max_idle_connections: int = 8,
    ):
        self._target, self._api_key, timeout, self._policy = settings(url, api_key, timeout, retries, backoff, max_backoff)
        self._pool = _Pool(self._target, timeout, ssl_context, max_idle_connections)

    # -- the API -----------------------------------------------------------

    def publish(self, channel: str, data: Any, idempotency_key: Optional[str] = None) -> Position:
        """Publish ``data`` (any JSON value) to ``channel``; returns its ``(offset, epoch)``."""
        return self._call(_calls.publish(channel, data, idempotency_key))

    def broadcast(self, channels: Sequence[str], data: Any, idempotency_key: Optional[str] = None) -> List[BroadcastResult]:
        """Publish the same data to several channels; one result (position or error) per channel."""
        return self._call(_calls.broadcast(channels, data, idempotency_key))

    def publish_batch(self, publications: Iterable[Mapping[str, Any]]) -> List[BatchResult]:
        """Publish many publications in one request: each a dict with ``channel`` (or ``user``), ``data`` and an
        optional ``idempotency_key``. One result (position or error) per publication, in the order given."""
        return self._call(_calls.publish_batch(publications))

    def publish_to_user(self, user: str, data: Any, idempotency_key: Optional[str] = None) -> Position:
        """Publish to the user's personal channel ``#<user>``: every connection of the user gets it."""
        return self._call(_calls.publish_to_user(user, data, idempotency_key))

    def presence(self, channel: str) -> List[Dict[str, Any]]:
        """The channel's subscribers: ``[{"client", "user", "info"?}]`` (the namespace needs presence)."""
        return self._call(_calls.presence(channel))

    def history(self, channel: str, limit: Optional[int] = None, since: Optional[SinceLike] = None) -> History:
        """Stored publications, after ``since`` (a Position, ``(offset, epoch)`` or dict) when given."""
        return self._call(_calls.history(channel, limit, since))

    def signal(self, channel: str, data: Any) -> None:
        """An ephemeral signal to the channel's current subscribers: not stored, no offset."""
        return self._call(_calls.signal(channel, data))

    def disconnect_user(self, user: str, reconnect: bool = False, reason: Optional[str] = None) -> None:
        """Close every connection of the user (close code 3503, or 3011 when ``reconnect``)."""
        return self._call(_calls.disconnect_user(user, reconnect, reason))

    def unsubscribe_user(self, user: str, channel: str) -> None:
        """End the user's subscription to ``channel`` on every connection and node."""
        return self._call(_calls.unsubscribe_user(user, channel))

    def channels(self) -> List[Dict[str, Any]]:
        """Channels with subscribers on the node answering: ``[{"channel", "subscribers"}]``."""
        return self._call(_calls.channels())

    def info(self) -> Dict[str, Any]:
        """``{"nodes": [{"id", "uptime", "connections", ...}]}`` for every live node."""
        return self._call(_calls.info())

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        """Close the idle connections. The client stays usable: it reconnects when called."""
        self._pool.close()

    def __enter__(self) -> "Tidings":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------

    def _call(self, call: Call) -> Any:
        for attempt in itertools.count():
            try:
                return self._attempt(call)
            except TidingsError as err:
                time.sleep(self._policy.wait_or_raise(err, attempt, call))

    def _attempt(self, call: Call) -> Any:
        conn, reused = self._pool.take()
        try:
            return self._exchange(conn, call, reused)
        except _StaleConnection as exc:
            # The server closed the idle connection as we reused it: once more on a fresh one,
            # unless the call may not be repeated (a signal): the server may have acted before the close.
            if not call.idempotent:
                raise _network_error(exc.__cause__ or exc, sent=True) from exc
            return self._exchange(self._pool.new(), call, False)

    def _exchange(self, conn: http.client.HTTPConnection, call: Call, reused: bool) -> Any:
        try:
            if conn.sock is None:
                conn.connect()
        except OSError as exc:
            conn.close()
            raise _network_error(exc, sent=False) from exc
        headers = dict(headers_for(self._target, self._api_key, call))
        headers.pop("Host")  # http.client writes it
        try:
            conn.request(call.method, self._target.base + call.path, body=call.body, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            if reused and isinstance(exc, _STALE):
                raise _StaleConnection() from exc
            raise _network_error(exc, sent=True) from exc
        if response.will_close:
            conn.close()
        else:
            self._pool.give_back(conn)
        return read_answer(call, response.status, body, response.getheader("Retry-After"))


class _StaleConnection(Exception):
    """A reused connection turned out closed before any answer."""


def _network_error(exc: BaseException, sent: bool) -> NetworkError:
    kind = "timed out" if isinstance(exc, socket.timeout) else type(exc).__name__
    return NetworkError(f"no answer from the gateway ({kind}: {exc})", request_sent=sent)
