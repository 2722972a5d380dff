"""Where the time goes: cProfile over a round of stories, for each implementation."""

from __future__ import annotations

import cProfile
import io
import pstats

from bench.backends import Backend
from bench.stories import IMPLEMENTATIONS

TOP = 25


def profile(backend: Backend, implementation: str, stories: int) -> str:
    """Profile ``stories`` stories; the top functions by own time and by total time."""
    with backend.fresh() as storage:
        runner = IMPLEMENTATIONS[implementation](storage.database_url, storage.var_dir)
        try:
            runner.story()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(stories):
                runner.story()
            profiler.disable()
        finally:
            runner.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    title = f"{stories} stories through {implementation} on {backend.name}"
    out.write(f"== {title}: by own time ==\n")
    stats.sort_stats("tottime").print_stats(TOP)
    out.write(f"== {title}: by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(TOP)
    return out.getvalue()


def profile_all(backend: Backend, stories: int) -> str:
    return "\n".join(profile(backend, name, stories) for name in IMPLEMENTATIONS)
