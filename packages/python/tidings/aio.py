"""The asyncio client: HTTP/1.1 keep-alive over asyncio streams, standard library only."""
from __future__ import annotations

import asyncio
import itertools
import ssl
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from . import _calls
from ._calls import Call, SinceLike
from ._http import headers_for, read_answer, settings
from .errors import NetworkError, TidingsError
from .types import BatchResult, BroadcastResult, History, Position

#: Largest answer read; a history answer is the biggest the API sends.
MAX_BODY_BYTES = 64 * 1024 * 1024
_MAX_HEADERS = 100


class _Conn(NamedTuple):
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    loop: asyncio.AbstractEventLoop

    def usable(self) -> bool:
        """On the running loop, and not closed by the server (EOF, or bytes nobody asked for) while idle."""
        if self.loop is not asyncio.get_running_loop():
            return False  # opened under another asyncio.run(): its loop is gone
        return not self.reader.at_eof() and not self.writer.is_closing() and not getattr(self.reader, "_buffer", b"")

    def close(self) -> None:
        try:
            self.writer.close()
        except RuntimeError:
            # Its event loop is closed and can no longer close the transport: close the socket here.
            transport = self.writer.transport
            sock = getattr(transport, "_sock", None)
            if sock is not None:
                sock.close()
                transport._sock = None  # type: ignore[attr-defined]


class _Answer(NamedTuple):
    status: int
    headers: Dict[str, str]
    body: bytes
    keep_alive: bool


class _ConnectFailed(Exception):
    pass


class _StaleConnection(Exception):
    pass


class AsyncTidings:
    """The same API as :class:`tidings.Tidings`, as coroutines, for asyncio apps (FastAPI, aiohttp...).

    Safe to share between tasks of one event loop: each call takes an idle
    keep-alive connection or opens one. ``timeout`` bounds one whole attempt
    (connect, send, answer), in seconds; retries work as in ``Tidings``.
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
        self._target, self._api_key, self._timeout, self._policy = settings(url, api_key, timeout, retries, backoff, max_backoff)
        self._ssl = ssl_context
        self._max_idle = max_idle_connections
        self._idle: List[_Conn] = []

    # -- the API (see Tidings for each call's meaning) ---------------------

    async def publish(self, channel: str, data: Any, idempotency_key: Optional[str] = None) -> Position:
        return await self._call(_calls.publish(channel, data, idempotency_key))

    async def broadcast(self, channels: Sequence[str], data: Any, idempotency_key: Optional[str] = None) -> List[BroadcastResult]:
        return await self._call(_calls.broadcast(channels, data, idempotency_key))

    async def publish_batch(self, publications: Iterable[Mapping[str, Any]]) -> List[BatchResult]:
        return await self._call(_calls.publish_batch(publications))

    async def publish_to_user(self, user: str, data: Any, idempotency_key: Optional[str] = None) -> Position:
        return await self._call(_calls.publish_to_user(user, data, idempotency_key))

    async def presence(self, channel: str) -> List[Dict[str, Any]]:
        return await self._call(_calls.presence(channel))

    async def history(self, channel: str, limit: Optional[int] = None, since: Optional[SinceLike] = None) -> History:
        return await self._call(_calls.history(channel, limit, since))

    async def signal(self, channel: str, data: Any) -> None:
        return await self._call(_calls.signal(channel, data))

    async def disconnect_user(self, user: str, reconnect: bool = False, reason: Optional[str] = None) -> None:
        return await self._call(_calls.disconnect_user(user, reconnect, reason))

    async def unsubscribe_user(self, user: str, channel: str) -> None:
        return await self._call(_calls.unsubscribe_user(user, channel))

    async def channels(self) -> List[Dict[str, Any]]:
        return await self._call(_calls.channels())

    async def info(self) -> Dict[str, Any]:
        return await self._call(_calls.info())

    # -- lifecycle ---------------------------------------------------------

    async def aclose(self) -> None:
        """Close the idle connections. The client stays usable: it reconnects when called."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        for conn in idle:
            if conn.loop is not asyncio.get_running_loop():
                continue
            try:
                await conn.writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass

    async def __aenter__(self) -> "AsyncTidings":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- transport ---------------------------------------------------------

    async def _call(self, call: Call) -> Any:
        for attempt in itertools.count():
            try:
                return await self._attempt(call)
            except TidingsError as err:
                await asyncio.sleep(self._policy.wait_or_raise(err, attempt, call))

    async def _attempt(self, call: Call) -> Any:
        conn, reused = self._take()
        try:
            answer = await self._bounded(conn, call, reused)
        except _StaleConnection as exc:
            # The server closed the idle connection as we reused it: once more on a fresh one,
            # unless the call may not be repeated (a signal): the server may have acted before the close.
            if not call.idempotent:
                raise _network_error(f"connection closed: {exc.__cause__ or exc}", sent=True) from exc
            answer = await self._bounded(None, call, False)
        return read_answer(call, answer.status, answer.body, answer.headers.get("retry-after"))

    async def _bounded(self, conn: Optional[_Conn], call: Call, reused: bool) -> _Answer:
        # The exchange puts the connection it uses here, so a timeout can close it (its state is unknown).
        holder: List[_Conn] = [conn] if conn else []
        try:
            return await asyncio.wait_for(self._exchange(holder, call, reused), self._timeout)
        except asyncio.TimeoutError as exc:
            for c in holder:
                c.close()
            raise _network_error(f"timed out after {self._timeout} s", sent=bool(holder)) from exc

    async def _exchange(self, holder: List[_Conn], call: Call, reused: bool) -> _Answer:
        if not holder:
            holder.append(await self._open())
        conn = holder[0]
        try:
            conn.writer.write(self._request_bytes(call))
            await conn.writer.drain()
            answer = await _read_answer(conn.reader)
        except asyncio.CancelledError:
            conn.close()  # cancelled mid-exchange (a timeout, or the caller): its state is unknown
            raise
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
            conn.close()
            if reused and isinstance(exc, (EOFError, ConnectionError, asyncio.IncompleteReadError)):
                raise _StaleConnection() from exc
            raise _network_error(f"{type(exc).__name__}: {exc}", sent=True) from exc
        if answer.keep_alive and len(self._idle) < self._max_idle:
            self._idle.append(conn)
        else:
            conn.close()
        return answer

    def _take(self) -> Tuple[Optional[_Conn], bool]:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable():
                return conn, True
            conn.close()
        return None, False

    async def _open(self) -> _Conn:
        t = self._target
        context = (self._ssl or ssl.create_default_context()) if t.scheme == "https" else None
        try:
            reader, writer = await asyncio.open_connection(t.host, t.port, ssl=context, limit=2 ** 16)
        except (OSError, ssl.SSLError) as exc:
            raise _network_error(f"{type(exc).__name__}: {exc}", sent=False) from exc
        return _Conn(reader, writer, asyncio.get_running_loop())

    def _request_bytes(self, call: Call) -> bytes:
        lines = [f"{call.method} {self._target.base}{call.path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in headers_for(self._target, self._api_key, call).items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + (call.body or b"")


async def _read_answer(reader: asyncio.StreamReader) -> _Answer:
    """One HTTP/1.1 answer: status line, headers, and a content-length, chunked or close-delimited body."""
    while True:
        version, status = _status_line(await reader.readline())
        headers = await _headers(reader)
        if not 100 <= status < 200:  # skip interim answers
            break
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    keep_alive = version == "HTTP/1.1" and "close" not in tokens or "keep-alive" in tokens
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _chunked(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if not 0 <= length <= MAX_BODY_BYTES:
            raise ValueError(f"answer body of {length} bytes is refused")
        body = await reader.readexactly(length)
    elif status in (204, 304):
        body = b""
    else:
        body = await reader.read(MAX_BODY_BYTES)
        keep_alive = False
    return _Answer(status, headers, body, keep_alive)


def _status_line(line: bytes) -> Tuple[str, int]:
    if not line:
        raise EOFError("connection closed before the answer")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {line[:80]!r}")
    return parts[0], int(parts[1])


async def _headers(reader: asyncio.StreamReader) -> Dict[str, str]:
    headers: Dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = await reader.readline()
        if not line.endswith(b"\n"):
            raise EOFError("connection closed inside the headers")
        if line in (b"\r\n", b"\n"):
            return headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ValueError(f"malformed header line {line[:80]!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    raise ValueError(f"more than {_MAX_HEADERS} header lines")


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: List[bytes] = []
    size_total = 0
    while True:
        size_line = await reader.readline()
        if not size_line.endswith(b"\n"):
            raise EOFError("connection closed inside a chunked body")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            await _headers(reader)  # trailers, up to the blank line
            return b"".join(parts)
        size_total += size
        if size_total > MAX_BODY_BYTES:
            raise ValueError("chunked answer too large")
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("chunk not followed by CRLF")


def _network_error(detail: str, sent: bool) -> NetworkError:
    return NetworkError(f"no answer from the gateway ({detail})", request_sent=sent)
