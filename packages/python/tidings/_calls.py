"""The API's calls as data: what to send, and how to read the answer.

The sync and async clients share these, so both send the same bodies and
return the same values; only the transport differs.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from .errors import InvalidResponse, error_for
from .types import BroadcastResult, History, Position

SinceLike = Union[Position, Tuple[int, str], Mapping[str, Any]]


class Call(NamedTuple):
    method: str
    path: str
    #: The encoded JSON body (None for GET), encoded once so every retry sends the same bytes.
    body: Optional[bytes]
    read: Callable[[Any], Any]
    #: True when repeating the call cannot duplicate its effect (idempotency key, or idempotent by nature).
    idempotent: bool = True


def _encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or value == "":
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def _key(value: Optional[str]) -> str:
    return new_idempotency_key() if value is None else _text("idempotency_key", value)


def _field(answer: Any, name: str, kind: type) -> Any:
    value = answer.get(name) if isinstance(answer, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise InvalidResponse(f"answer has no {kind.__name__} field {name!r}: {answer!r:.200}")
    return value


def _position(answer: Any) -> Position:
    return Position(_field(answer, "offset", int), _field(answer, "epoch", str))


def _nothing(answer: Any) -> None:
    return None


def _broadcast_results(answer: Any) -> List[BroadcastResult]:
    out = []
    for item in _field(answer, "results", list):
        err = item.get("error") if isinstance(item, dict) else None
        if isinstance(err, dict):
            error = error_for(None, err.get("code"), str(err.get("message", "failed")))
            out.append(BroadcastResult(_field(item, "channel", str), None, None, error))
        else:
            out.append(BroadcastResult(_field(item, "channel", str), _field(item, "offset", int), _field(item, "epoch", str), None))
    return out


def _since(value: SinceLike) -> Dict[str, Any]:
    try:
        offset, epoch = (value["offset"], value["epoch"]) if isinstance(value, Mapping) else value
    except (KeyError, TypeError, ValueError):
        offset = epoch = None
    if not isinstance(offset, int) or isinstance(offset, bool) or not isinstance(epoch, str):
        raise ValueError(f"since must be a Position, an (offset, epoch) tuple or an {{offset, epoch}} dict, got {value!r}")
    return {"offset": offset, "epoch": epoch}


def _history(answer: Any) -> History:
    return History(_field(answer, "epoch", str), _field(answer, "offset", int), _field(answer, "publications", list))


def publish(channel: str, data: Any, idempotency_key: Optional[str]) -> Call:
    body = {"channel": _text("channel", channel), "data": data, "idempotencyKey": _key(idempotency_key)}
    return Call("POST", "/api/publish", _encode(body), _position)


def broadcast(channels: Sequence[str], data: Any, idempotency_key: Optional[str]) -> Call:
    if isinstance(channels, str) or not isinstance(channels, Iterable):
        raise ValueError("channels must be a list of channel names")
    names = [_text("channel", c) for c in channels]
    body = {"channels": names, "data": data, "idempotencyKey": _key(idempotency_key)}
    return Call("POST", "/api/broadcast", _encode(body), _broadcast_results)


def publish_to_user(user: str, data: Any, idempotency_key: Optional[str]) -> Call:
    body = {"user": _text("user", user), "data": data, "idempotencyKey": _key(idempotency_key)}
    return Call("POST", "/api/user/publish", _encode(body), _position)


def presence(channel: str) -> Call:
    return Call("POST", "/api/presence", _encode({"channel": _text("channel", channel)}), lambda a: _field(a, "clients", list))


def history(channel: str, limit: Optional[int], since: Optional[SinceLike]) -> Call:
    body: Dict[str, Any] = {"channel": _text("channel", channel)}
    if limit is not None:
        body["limit"] = limit
    if since is not None:
        body["since"] = _since(since)
    return Call("POST", "/api/history", _encode(body), _history)


def signal(channel: str, data: Any) -> Call:
    if data is None:
        raise ValueError("signal data may not be None")
    body = {"channel": _text("channel", channel), "data": data}
    # A signal has no idempotency key: a repeat after a lost answer could deliver it twice.
    return Call("POST", "/api/signal", _encode(body), _nothing, idempotent=False)


def disconnect_user(user: str, reconnect: bool, reason: Optional[str]) -> Call:
    body: Dict[str, Any] = {"user": _text("user", user), "reconnect": bool(reconnect)}
    if reason is not None:
        body["reason"] = reason
    return Call("POST", "/api/user/disconnect", _encode(body), _nothing)


def unsubscribe_user(user: str, channel: str) -> Call:
    body = {"user": _text("user", user), "channel": _text("channel", channel)}
    return Call("POST", "/api/user/unsubscribe", _encode(body), _nothing)


def channels() -> Call:
    return Call("GET", "/api/channels", None, lambda a: _field(a, "channels", list))


def _info(answer: Any) -> Dict[str, Any]:
    _field(answer, "nodes", list)
    return answer


def info() -> Call:
    return Call("GET", "/api/info", None, _info)
