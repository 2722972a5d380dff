"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
from importlib.metadata import version
from pathlib import Path

from bench.backends import Backend


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts(backends: list[Backend]) -> dict[str, str]:
    facts = {
        "CPU": f"{cpu_model()} ({os.cpu_count()} cores)",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "eventsourcing": version("eventsourcing"),
        "OS": f"{platform.system()} {platform.release()}",
    }
    for backend in backends:
        facts[backend.name] = backend.version()
    return facts
