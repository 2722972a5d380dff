"""The notifications' settings, from the environment (docs/NOTIFICATIONS.md).

* ``RETE_NOTIFY_LEAD_EMERGENCY`` / ``_URGENT`` / ``_ROUTINE``: how long before a
  deadline "deadline.approaching" is announced (``15m``, ``2h``, ``90s``, ``1d``;
  defaults 15m, 4h, 12h).
* ``RETE_NOTIFY_INTERVAL``: seconds between the worker's rounds when nothing wakes
  it (default 1; 0: no worker in the server, e.g. when ``rete notify run`` does it).
* ``RETE_NOTIFY_LEASE``: seconds a delivery taken for an attempt is kept from other
  workers (default 30, more than an attempt's timeouts): a worker killed mid-attempt
  leaves it to be tried again after that.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from domain.vocabulary import Urgency
from infrastructure.settings import SettingsError

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def duration(name: str, text: str) -> timedelta:
    """``15m``, ``2h``, ``90s``, ``1d``; a bare number is seconds."""
    found = _DURATION.match(text)
    if found is None:
        raise SettingsError(f"{name} must be a duration such as 15m, 2h or 90s")
    value = float(found.group(1)) * _UNITS[found.group(2) or "s"]
    if value > 7 * 86400:
        raise SettingsError(f"{name} must be at most 7 days")
    return timedelta(seconds=value)


def _defaults() -> dict[str, timedelta]:
    return {
        Urgency.EMERGENCY.value: timedelta(minutes=15),
        Urgency.URGENT.value: timedelta(hours=4),
        Urgency.ROUTINE.value: timedelta(hours=12),
    }


@dataclass(frozen=True)
class NotifySettings:
    leads: Mapping[str, timedelta] = field(default_factory=_defaults)
    interval_seconds: float = 1.0
    lease_seconds: float = 30.0


def load_notify_settings(env: Mapping[str, str] | None = None) -> NotifySettings:
    env = os.environ if env is None else env
    leads = _defaults()
    for urgency in leads:
        name = f"RETE_NOTIFY_LEAD_{urgency.upper()}"
        if env.get(name):
            leads[urgency] = duration(name, env[name])
    return NotifySettings(
        leads=leads,
        interval_seconds=_seconds(env, "RETE_NOTIFY_INTERVAL", "1", 0),
        lease_seconds=_seconds(env, "RETE_NOTIFY_LEASE", "30", 1),
    )


def _seconds(env: Mapping[str, str], name: str, default: str, low: float) -> float:
    try:
        seconds = float(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds") from None
    if not low <= seconds <= 3600:
        raise SettingsError(f"{name} must be between {low:g} and 3600 seconds")
    return seconds
