"""A long-lived answer: one that never completes on its own (an event stream).

The route marks its request; the server's protocol (``api/server.py``) reads the
mark when the server stops, and closes such a connection at once instead of
waiting for an answer that would never end. Clients of a stream reconnect (with
``Last-Event-ID``) to whichever server answers next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

_LONG_LIVED: Final = "rete.long_lived"


def mark_long_lived(scope: Any) -> None:
    """Say that this request's answer lives until the client or the server ends it."""
    scope.setdefault("state", {})[_LONG_LIVED] = True


def is_long_lived(scope: Mapping[str, Any]) -> bool:
    state = scope.get("state")
    return isinstance(state, Mapping) and state.get(_LONG_LIVED) is True
