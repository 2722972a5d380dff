"""Files only their owner may read: the database, its WAL, keys and secrets.

Everything Rete keeps on disk is either personal data (sealed, but still what
an erasure must make unreadable) or a secret, so it is created 0600 in a
directory created 0700, whatever the process umask says. The mode is given
explicitly when a file is created; changing the umask would change it for the
whole process (tests, the CLI's own output files) behind everyone's back.

SQLite creates a database's ``-wal`` and ``-shm`` files with the database
file's own permissions, so creating the database 0600 before SQLite opens it
covers all three. A database an earlier version created readable by others is
tightened, with its companions, when it is opened.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from infrastructure.logging import get_logger

PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")

log = get_logger(__name__)


def private_directory(path: Path) -> None:
    """Create ``path`` (and its parents) if missing; the last one 0700.

    An existing directory keeps its mode: it may be one the operator chose and
    shares on purpose (what matters is that the files in it are private).
    """
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if missing; make an existing one 0600.

    Never truncates, and refuses to follow a symbolic link at ``path``.
    """
    private_directory(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE_FILE:
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def private_sqlite(path: str) -> None:
    """Prepare a SQLite database path before the first connection opens it:
    the file and any ``-wal``/``-shm``/``-journal`` beside it become 0600.

    In-memory databases, ``file:`` URIs and paths that are not regular files
    are left to SQLite, and so is a path this cannot prepare (a directory it
    may not write, a file it may not change): SQLite then fails to open it with
    its own error, which callers already report, or opens a file whose mode
    stays as it was, which is logged.
    """
    if path == ":memory:" or path.startswith("file:"):
        return
    database = Path(path)
    if database.exists() and not database.is_file():
        return
    try:
        private_file(database)
        for suffix in _SQLITE_COMPANIONS:
            companion = database.with_name(database.name + suffix)
            # SQLite may remove a companion meanwhile: then there is nothing to tighten.
            with contextlib.suppress(FileNotFoundError):
                if stat.S_IMODE(companion.stat().st_mode) != PRIVATE_FILE:
                    companion.chmod(PRIVATE_FILE)
    except OSError as e:
        log.warning("cannot make the database file private", path=path, reason=e.strerror)
