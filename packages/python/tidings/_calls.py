"""The API's calls as data: what to send, and how to read the answer.

The sync and async clients share these, so both send the same bodies and
return the same values; only the transport differs.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from .errors import InvalidResponse, TidingsError, error_for
from .types import BatchResult, BroadcastResult, History, Position

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


def _item_error(item: Any) -> Optional[TidingsError]:
    """The typed error of one result of a broadcast or a batch, or None when it succeeded."""
    err = item.get("error") if isinstance(item, dict) else None
    return error_for(None, err.get("code"), str(err.get("message", "failed"))) if isinstance(err, dict) else None


def _broadcast_results(answer: Any) -> List[BroadcastResult]:
    out = []
    for item in _field(answer, "results", list):
        error = _item_error(item)
        if error is not None:
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


#: The most publications one batch request may carry (the gateway answers 400 beyond it).
MAX_BATCH = 1000
_BATCH_FIELDS = frozenset({"channel", "user", "data", "idempotency_key"})


def _batch_item(item: Any) -> Dict[str, Any]:
    """One publication of a batch, as the API takes it: to a channel or a user, with a key (the caller's or a random one)."""
    if not isinstance(item, Mapping):
        raise ValueError(f"each publication must be a dict with 'channel' or 'user' and 'data', got {item!r:.100}")
    unknown = set(item) - _BATCH_FIELDS
    if unknown:
        raise ValueError(f"unknown publication field(s) {sorted(unknown)}; expected channel or user, data, idempotency_key")
    if ("channel" in item) == ("user" in item):
        raise ValueError(f"each publication needs exactly one of 'channel' and 'user', got {sorted(item)}")
    if "data" not in item:
        raise ValueError("each publication needs 'data' (any JSON value)")
    target = {"channel": _text("channel", item["channel"])} if "channel" in item else {"user": _text("user", item["user"])}
    return {**target, "data": item["data"], "idempotencyKey": _key(item.get("idempotency_key"))}


def _batch_results(targets: List[Tuple[Optional[str], Optional[str]]]) -> Callable[[Any], List[BatchResult]]:
    def read(answer: Any) -> List[BatchResult]:
        results = _field(answer, "results", list)
        if len(results) != len(targets):
            raise InvalidResponse(f"a batch of {len(targets)} got {len(results)} results")
        out = []
        for (channel, user), item in zip(targets, results):
            error = _item_error(item)
            if error is not None:
                out.append(BatchResult(channel, user, None, None, error))
            else:
                out.append(BatchResult(channel, user, _field(item, "offset", int), _field(item, "epoch", str), None))
        return out

    return read


def publish_batch(publications: Iterable[Mapping[str, Any]]) -> Call:
    if isinstance(publications, (str, bytes, Mapping)) or not isinstance(publications, Iterable):
        raise ValueError("publications must be a list of dicts")
    items = [_batch_item(p) for p in publications]
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValueError(f"a batch carries 1 to {MAX_BATCH} publications, got {len(items)}")
    targets = [(i.get("channel"), i.get("user")) for i in items]
    # Every item has its key, so a retry of the whole request publishes only what the first attempt did not.
    return Call("POST", "/api/batch", _encode({"publications": items}), _batch_results(targets))


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
