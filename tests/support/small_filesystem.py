"""A small filesystem for the full-disk tests: a tmpfs of a few megabytes mounted on
a directory of the test's own, and a way to fill it up and free it again.

Mounting needs root (as the test machines run); elsewhere the tests that need it
are skipped and say why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

_FILLER = "filler"


def can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@contextlib.contextmanager
def small_filesystem(where: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` on ``where`` (created), unmounted at the end."""
    if not can_mount():
        pytest.skip("mounting a small filesystem needs root")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def fill(where: Path) -> int:
    """Write a filler file on ``where`` until its filesystem has no byte left;
    returns how many bytes it took."""
    written, size = 0, 1 << 16
    fd = os.open(where / _FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while size:
            try:
                written += os.write(fd, b"\0" * size)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                size //= 2  # the last pages, a smaller piece at a time
    finally:
        os.close(fd)
    return written


def free(where: Path) -> None:
    """Remove the filler: the space is back."""
    (where / _FILLER).unlink(missing_ok=True)
