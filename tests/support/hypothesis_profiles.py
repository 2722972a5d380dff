"""Hypothesis profiles: a bounded default run, and a long one on demand.

``default`` keeps every property test at the number of examples it names (and at
Hypothesis's 100 where it names none), without a per-example deadline: on a busy
machine a slow example is not a failure. ``long`` runs ten times as many.
Choose with ``HYPOTHESIS_PROFILE=long`` or ``pytest --hypothesis-profile=long``.

A test that names its own count writes ``max_examples=examples(25)``: 25 in the
default run, scaled by the loaded profile otherwise.
"""

from __future__ import annotations

import os

from hypothesis import settings

DEFAULT_EXAMPLES = 100
PROFILES = {"default": DEFAULT_EXAMPLES, "long": 10 * DEFAULT_EXAMPLES}


def register_profiles() -> None:
    """Register the profiles and load the one ``HYPOTHESIS_PROFILE`` names
    (``--hypothesis-profile`` still wins: the plugin loads it afterwards)."""
    for name, count in PROFILES.items():
        settings.register_profile(name, max_examples=count, deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def examples(count: int) -> int:
    """``count`` examples under the default profile, scaled by the loaded one."""
    return max(1, count * settings.default.max_examples // DEFAULT_EXAMPLES)
