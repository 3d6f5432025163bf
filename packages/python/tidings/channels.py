"""User ids inside channel names, as the gateway writes them (docs/protocol.md, "Channel names")."""
from __future__ import annotations

import base64
import re
from typing import Optional

_PLAIN = re.compile(r"[A-Za-z0-9_.@-]+")
#: "#" plus the form must fit a channel name (255 characters).
_MAX_FORM = 254


def channel_user_id(user: str) -> Optional[str]:
    """The form of ``user`` in channel names: the id itself when plain (A-Z a-z 0-9 _ . @ -),
    else ``=`` and the unpadded base64url of its UTF-8. None when even that does not fit."""
    if 0 < len(user) <= _MAX_FORM and _PLAIN.fullmatch(user):
        return user
    form = "=" + base64.urlsafe_b64encode(user.encode("utf-8")).rstrip(b"=").decode("ascii")
    return form if len(form) <= _MAX_FORM else None


def personal_channel(user: str) -> Optional[str]:
    """The channel ``publish_to_user(user, ...)`` publishes to (``#<form>``), e.g. to read its history."""
    form = channel_user_id(user)
    return None if form is None else "#" + form
