"""Settings, read once from the environment into one typed object.

Every variable is named ``RETE_*`` and documented in the README. Nothing else in
the code reads the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from domain.vocabulary import Urgency
from infrastructure.database_url import BadSchemaName, split_schema
from infrastructure.private_files import private_sqlite


class SettingsError(Exception):
    """A setting has a value we cannot use; the message names the variable."""


def _default_leads() -> dict[str, timedelta]:
    return {
        Urgency.EMERGENCY.value: timedelta(minutes=15),
        Urgency.URGENT.value: timedelta(hours=4),
        Urgency.ROUTINE.value: timedelta(hours=12),
    }


@dataclass(frozen=True)
class NotifySettings:
    """The notifications' settings (``notify_settings``, below)."""

    leads: Mapping[str, timedelta] = field(default_factory=_default_leads)
    interval_seconds: float = 1.0
    lease_seconds: float = 30.0


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    directory_file: Path | None
    instruments_file: Path | None
    jwt_issuer: str
    jwt_audience: str
    jwt_secret_file: Path
    jwt_public_key_file: Path | None
    log_format: str
    snapshot_interval: int
    kek_file: Path | None
    # The KEK itself, when given in the environment: kept out of repr and logs.
    kek: str | None = field(repr=False)
    key_cache_seconds: float
    host: str
    port: int
    # The ledger (docs/AUDIT.md): the checkpoint signing key lives outside the database.
    ledger_signing_key_file: Path
    ledger_origin: str
    checkpoint_interval_seconds: float  # 0: no periodic checkpoints
    escalation_interval_seconds: float  # 0: no periodic escalation policy
    # Connections a process holds to the database, all in one pool (infrastructure/db).
    database_pool_size: int = 5
    # Every N seconds the server completes pending erasures (docs/ENCRYPTION.md); 0: never.
    key_retirement_interval_seconds: float = 3600.0
    # The API refuses tokens that live longer, whoever minted them.
    max_token_lifetime: timedelta = timedelta(hours=12)
    # Tokens from the network's identity provider; None: development tokens.
    oidc: OidcSettings | None = None
    # How long an Idempotency-Key and its answer are kept (application.idempotency).
    idempotency_hours: float = 24.0
    # Seconds a request may take on the server's side: the database's connect,
    # statement and pool waits are derived from it (infrastructure/db/timeouts.py).
    request_timeout: float = 10.0
    # Seconds a client may take to send a whole request (headers and body) once it
    # has connected or started it; a slower one is disconnected (api/server.py).
    read_timeout: float = 10.0
    # The SMTP server the email channel sends through; None: no email (docs/NOTIFICATIONS.md).
    smtp: SmtpSettings | None = None
    # Rete's address as its users reach it (https://rete.example.org): links in emails.
    public_url: str | None = None
    # The announcements' event stream (api/routes/announcement_stream.py): how often a
    # process looks for new announcements, and how long a quiet stream waits before
    # it sends a comment that keeps proxies from closing it.
    stream_poll_seconds: float = 0.5
    stream_heartbeat_seconds: float = 15.0
    # The notifications: deadline leads, the worker's interval and its leases.
    notify: NotifySettings = field(default_factory=NotifySettings)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing library's own variables, derived from ``database_url``."""
        return eventsourcing_env(self.database_url, self.database_pool_size)


def eventsourcing_env(database_url: str, pool_size: int) -> dict[str, str]:
    """The eventsourcing library's variables for ``database_url``, its pool holding
    ``pool_size`` connections at most (the only pool of a process: infrastructure/db)."""
    if database_url.startswith(("postgresql://", "postgres://")):
        url = urlsplit(database_url)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "rete",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": "0",
        }
        try:
            _, schema = split_schema(database_url)
        except BadSchemaName as e:
            raise SettingsError(f"RETE_DATABASE_URL: {e}") from None
        if any(key == "schema" and value for key, value in parse_qsl(url.query)):
            env["POSTGRES_SCHEMA"] = schema
        return env
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        if path != ":memory:":
            private_sqlite(path)
        # A writer waits for another process's write lock up to 5 s (the busy
        # timeout), a wait a person at a desk can bear: the background's batches
        # (the ledger's, the views') hold the lock for tens of milliseconds, so a
        # longer wait means something is wrong, and the request ends with an error
        # rather than hanging.
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "5",
        }
    raise SettingsError(
        "RETE_DATABASE_URL must start with sqlite:/// or postgresql:// "
        f"(got a value starting {database_url[:12]!r})"
    )


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    try:
        value = int(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds") from None
    if not 0 <= value <= 3600:
        raise SettingsError(f"{name} must be between 0 and 3600 seconds")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    var_dir = Path(env.get("RETE_VAR_DIR", "var"))
    directory = env.get("RETE_DIRECTORY_FILE")
    instruments = env.get("RETE_INSTRUMENTS_FILE")
    public_key = env.get("RETE_JWT_PUBLIC_KEY_FILE")
    log_format = env.get("RETE_LOG_FORMAT", "console")
    if log_format not in ("console", "json"):
        raise SettingsError("RETE_LOG_FORMAT must be console or json")
    return Settings(
        database_url=env.get("RETE_DATABASE_URL", f"sqlite:///{var_dir / 'rete.sqlite'}"),
        var_dir=var_dir,
        directory_file=Path(directory) if directory else None,
        instruments_file=Path(instruments) if instruments else None,
        jwt_issuer=env.get("RETE_JWT_ISSUER", "rete-dev"),
        jwt_audience=env.get("RETE_JWT_AUDIENCE", "rete-api"),
        jwt_secret_file=Path(env.get("RETE_JWT_SECRET_FILE", str(var_dir / "jwt-secret"))),
        jwt_public_key_file=Path(public_key) if public_key else None,
        log_format=log_format,
        snapshot_interval=_int(env, "RETE_SNAPSHOT_INTERVAL", 50),
        kek_file=Path(env["RETE_KEK_FILE"]) if env.get("RETE_KEK_FILE") else None,
        kek=env.get("RETE_KEK") or None,
        key_cache_seconds=_seconds(env, "RETE_KEY_CACHE_SECONDS", 5.0),
        host=env.get("RETE_HOST", "127.0.0.1"),
        port=_int(env, "RETE_PORT", 8000),
        ledger_signing_key_file=Path(
            env.get("RETE_LEDGER_SIGNING_KEY_FILE") or str(var_dir / "ledger-signing.key")
        ),
        ledger_origin=env.get("RETE_LEDGER_ORIGIN", "rete.cesano-boscone.example/ledger"),
        checkpoint_interval_seconds=_seconds(env, "RETE_CHECKPOINT_INTERVAL", 60.0),
        escalation_interval_seconds=_seconds(env, "RETE_ESCALATION_INTERVAL", 60.0),
        database_pool_size=_int(env, "RETE_DATABASE_POOL_SIZE", 5),
        max_token_lifetime=timedelta(seconds=_int(env, "RETE_MAX_TOKEN_LIFETIME", 12 * 3600)),
        request_timeout=_bounded(env, "RETE_REQUEST_TIMEOUT", 10.0, 1.0, 300.0),
        read_timeout=_bounded(env, "RETE_READ_TIMEOUT", 10.0, 1.0, 300.0),
        idempotency_hours=float(_int(env, "RETE_IDEMPOTENCY_HOURS", 24)),
        key_retirement_interval_seconds=_seconds(env, "RETE_KEY_RETIREMENT_INTERVAL", 3600.0),
        oidc=oidc_settings(env),
        smtp=smtp_settings(env),
        public_url=public_url(env),
        stream_poll_seconds=_bounded(env, "RETE_STREAM_POLL_INTERVAL", 0.5, 0.05, 60.0),
        stream_heartbeat_seconds=_bounded(env, "RETE_STREAM_HEARTBEAT", 15.0, 1.0, 300.0),
        notify=notify_settings(env),
    )


@dataclass(frozen=True)
class OidcSettings:
    """Tokens from the network's identity provider (docs/IDENTITY.md)."""

    issuer: str  # RETE_OIDC_ISSUER: must equal the tokens' ``iss``
    jwks_url: str | None  # RETE_OIDC_JWKS_URL; unset: read from the issuer's discovery document
    algorithms: tuple[str, ...]  # RETE_OIDC_ALGORITHMS
    service_claim: str  # RETE_OIDC_SERVICE_CLAIM: dotted path into the token's claims
    roles_claim: str  # RETE_OIDC_ROLES_CLAIM: dotted path, a list of role names
    role_map: Mapping[str, str]  # RETE_OIDC_ROLE_MAP: provider's role name -> Rete's
    jwks_cache_seconds: float  # RETE_OIDC_JWKS_CACHE_SECONDS: how long a fetched key set is trusted


OIDC_ALGORITHMS = ("RS256", "ES256", "EdDSA")


def oidc_settings(env: Mapping[str, str] | None = None) -> OidcSettings | None:
    """The identity provider's settings, or None when tokens are ours (development)."""
    env = os.environ if env is None else env
    issuer = env.get("RETE_OIDC_ISSUER", "").strip()
    if not issuer:
        return None
    if not issuer.startswith(("https://", "http://")):
        raise SettingsError("RETE_OIDC_ISSUER must be the provider's http(s) issuer URL")
    algorithms = tuple(
        a.strip() for a in env.get("RETE_OIDC_ALGORITHMS", ",".join(OIDC_ALGORITHMS)).split(",")
    )
    if not algorithms or any(a not in OIDC_ALGORITHMS for a in algorithms):
        raise SettingsError(f"RETE_OIDC_ALGORITHMS: choose among {', '.join(OIDC_ALGORITHMS)}")
    role_map: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in env.get("RETE_OIDC_ROLE_MAP", "").split(","))):
        theirs, sep, ours = pair.partition("=")
        if not sep or not theirs.strip() or not ours.strip():
            raise SettingsError("RETE_OIDC_ROLE_MAP must read provider-role=rete-role,...")
        role_map[theirs.strip()] = ours.strip()
    cache = _seconds(env, "RETE_OIDC_JWKS_CACHE_SECONDS", 300.0)
    if cache <= 0:
        raise SettingsError("RETE_OIDC_JWKS_CACHE_SECONDS must be more than 0")
    return OidcSettings(
        issuer=issuer,
        jwks_url=env.get("RETE_OIDC_JWKS_URL") or None,
        algorithms=algorithms,
        service_claim=env.get("RETE_OIDC_SERVICE_CLAIM", "service"),
        roles_claim=env.get("RETE_OIDC_ROLES_CLAIM", "roles"),
        role_map=role_map,
        jwks_cache_seconds=cache,
    )


def public_url(env: Mapping[str, str]) -> str | None:
    """RETE_PUBLIC_URL, without its trailing slash; None when unset."""
    value = env.get("RETE_PUBLIC_URL", "").strip().rstrip("/")
    if value and not value.startswith(("https://", "http://")):
        raise SettingsError("RETE_PUBLIC_URL must be Rete's http(s) address")
    return value or None


@dataclass(frozen=True)
class SmtpSettings:
    """The SMTP server emails go through (RETE_SMTP_URL, RETE_SMTP_FROM)."""

    host: str
    port: int
    # "plain" (a relay on the same host or network), "starttls" or "tls" (implicit).
    security: str
    username: str | None
    password: str | None = field(repr=False)
    sender: str  # RETE_SMTP_FROM: the From address
    timeout: float  # RETE_SMTP_TIMEOUT: seconds for the connection and each command


_SMTP_SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


def smtp_settings(env: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """The SMTP server from ``RETE_SMTP_URL`` (``smtp://``, ``smtp+starttls://`` or
    ``smtps://``, with ``user:password@`` when it asks for a login), or None."""
    env = os.environ if env is None else env
    raw = env.get("RETE_SMTP_URL", "").strip()
    if not raw:
        return None
    url = urlsplit(raw)
    if url.scheme not in _SMTP_SCHEMES or not url.hostname:
        raise SettingsError(
            "RETE_SMTP_URL must read smtp://, smtp+starttls:// or smtps:// and a host "
            "(user:password@host:port)"
        )
    security, default_port = _SMTP_SCHEMES[url.scheme]
    try:
        port = url.port or default_port
    except ValueError:
        raise SettingsError("RETE_SMTP_URL: the port must be a number up to 65535") from None
    sender = env.get("RETE_SMTP_FROM", "").strip()
    if "@" not in sender or any(c in sender for c in "\r\n"):
        raise SettingsError("RETE_SMTP_FROM must be the address emails are sent from")
    timeout = _bounded(env, "RETE_SMTP_TIMEOUT", 10.0, 1.0, 300.0)
    return SmtpSettings(
        host=url.hostname,
        port=port,
        security=security,
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password is not None else None,
        sender=sender,
        timeout=timeout,
    )


def _bounded(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    value = _seconds(env, name, default)
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g} seconds")
    return value


# -------------------------------------------------------------- notifications
# (docs/NOTIFICATIONS.md)
#
# * ``RETE_NOTIFY_LEAD_EMERGENCY`` / ``_URGENT`` / ``_ROUTINE``: how long before a
#   deadline "deadline.approaching" is announced (``15m``, ``2h``, ``90s``, ``1d``;
#   defaults 15m, 4h, 12h).
# * ``RETE_NOTIFY_INTERVAL``: seconds between the worker's rounds when nothing wakes
#   it (default 1; 0: no worker in the server, e.g. when ``rete notify run`` does it).
# * ``RETE_NOTIFY_LEASE``: seconds a delivery taken for an attempt is kept from other
#   workers (default 30, more than an attempt's timeouts): a worker killed
#   mid-attempt leaves it to be tried again after that.

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def duration(name: str, text: str) -> timedelta:
    """``15m``, ``2h``, ``90s``, ``1d``; a bare number is seconds."""
    found = _DURATION.match(text)
    if found is None:
        raise SettingsError(f"{name} must be a duration such as 15m, 2h or 90s")
    value = float(found.group(1)) * _UNITS[found.group(2) or "s"]
    if value > 7 * 86400:
        raise SettingsError(f"{name} must be at most 7 days")
    return timedelta(seconds=value)


def notify_settings(env: Mapping[str, str] | None = None) -> NotifySettings:
    env = os.environ if env is None else env
    leads = _default_leads()
    for urgency in leads:
        name = f"RETE_NOTIFY_LEAD_{urgency.upper()}"
        if env.get(name):
            leads[urgency] = duration(name, env[name])
    return NotifySettings(
        leads=leads,
        interval_seconds=_bounded(env, "RETE_NOTIFY_INTERVAL", 1.0, 0.0, 3600.0),
        lease_seconds=_bounded(env, "RETE_NOTIFY_LEASE", 30.0, 1.0, 3600.0),
    )
