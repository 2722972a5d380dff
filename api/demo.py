"""`rete demo`: a realistic synthetic story of the network, loaded through the application."""

from __future__ import annotations

from application.rete import Rete


def load_demo(rete: Rete) -> list[str]:
    """Load the story; return one line per step for the terminal. (Being written.)"""
    raise NotImplementedError
