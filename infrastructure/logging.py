"""Structured logs: JSON lines in production, a readable console in development.

Every record, from structlog or from the standard library (uvicorn, eventsourcing,
psycopg), goes through one formatter whose redaction processor keeps only the
keys on ``ALLOWED_KEYS``: bodies, headers, query strings, tokens and personal
fields never reach the output, whoever tried to log them. Records of other
libraries keep their message template but lose its arguments (which may carry
anything), except for the few loggers in ``_TRUSTED_FOREIGN_LOGGERS``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

ALLOWED_KEYS: frozenset[str] = frozenset(
    {
        # every line
        "event",
        "level",
        "timestamp",
        "logger",
        # one line per request
        "request_id",
        "method",
        "route",
        "status",
        "duration_ms",
        "user_id",
        "service_id",
        "error_code",
        # failures: the type and the frames (file, line, function), never values
        "exception_type",
        "frames",
        # operations
        "host",
        "port",
        "url",
        "workers",
        "database",
        "secret_file",
        "key_file",
        "kek_version",
        # the ledger: sizes and what is inconsistent, never a record's content
        "tree_size",
        "ledger_problem",
        # integrity alarms (application.integrity): a kind and ids, never content
        "alarm_kind",
        "alarm_detail",
    }
)

# Their messages are operational (server start, shutdown); their arguments are safe.
_TRUSTED_FOREIGN_LOGGERS = frozenset({"uvicorn", "uvicorn.error"})

_HANDLER_NAME = "rete"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record comes (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Keep only allow-listed keys (the ProcessorFormatter's own ``_record`` and
    ``_from_structlog`` are dropped here too)."""
    return {k: v for k, v in event_dict.items() if k in ALLOWED_KEYS}


def _foreign_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Fill a trusted library's message template with its arguments."""
    record = event_dict.get("_record")
    args = event_dict.pop("positional_args", None)
    if isinstance(record, logging.LogRecord) and record.name in _TRUSTED_FOREIGN_LOGGERS and args:
        with contextlib.suppress(TypeError, ValueError):
            event_dict["event"] = str(record.msg) % args
    return event_dict


def _renderer(log_format: str) -> Processor:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def configure_logging(log_format: str, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library through one redacting formatter.

    Idempotent: calling it again replaces the handler it installed before (tests
    call it once per app, each with their own stream).
    """
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        timestamper,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a reconfiguration (tests, a second create_app) reaches every logger.
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, _foreign_message],
        processors=[redact, _renderer(log_format)],
        pass_foreign_args=True,
        use_get_message=False,
    )
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # uvicorn's access log prints raw paths with query strings: never let it through.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
