"""Coordinador credentials: a db-scripts `.env` file or a DSN, exposed as an asyncpg DSN."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from miot_harness.settings import HarnessSettings, check_db_alias

REQUIRED_KEYS = ("PGHOST", "PGDATABASE", "PGUSER", "PGPASSWORD")
DEFAULT_PORT = 5432
DSN_SCHEMES = ("postgresql", "postgres")


class CredentialsError(ValueError):
    """Credentials cannot be found or are incomplete; the message says what is missing."""


class NexoCredentials(BaseModel):
    """Where and as whom to connect; the password never appears in `repr` or logs."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    database: str
    user: str
    password: SecretStr
    options: dict[str, str] = Field(default_factory=dict)

    def _dsn(self, encoded_password: str) -> str:
        auth = quote(self.user, safe="")
        if encoded_password:
            auth += ":" + encoded_password
        query = dict(self.options)
        if self.host.startswith("/"):
            query.update(host=self.host, port=str(self.port))
            location = ""
        else:
            host = f"[{self.host}]" if ":" in self.host else self.host
            location = f"{host}:{self.port}"
        suffix = f"?{urlencode(query)}" if query else ""
        return f"postgresql://{auth}@{location}/{quote(self.database, safe='')}{suffix}"

    @property
    def dsn(self) -> str:
        """The asyncpg DSN, every part URL-encoded (passwords may hold `@`, `:` or `/`)."""
        return self._dsn(quote(self.password.get_secret_value(), safe=""))

    @property
    def masked_dsn(self) -> str:
        """The DSN with the password replaced by `***`, for logs and CLI output."""
        return self._dsn("***" if self.password.get_secret_value() else "")

    @classmethod
    def from_dsn(cls, dsn: str) -> NexoCredentials:
        """Split a `postgresql://` URL (host in the authority or in `?host=`) into parts."""
        parts = urlsplit(dsn)
        if parts.scheme not in DSN_SCHEMES:
            raise CredentialsError("the Nexo DSN must start with postgresql://")
        query = dict(parse_qsl(parts.query))
        host = query.pop("host", None) or parts.hostname
        port = query.pop("port", None) or parts.port or DEFAULT_PORT
        database = unquote(parts.path.lstrip("/"))
        missing = [
            name
            for name, value in (("host", host), ("database", database), ("user", parts.username))
            if not value
        ]
        if missing:
            raise CredentialsError(f"the Nexo DSN has no {', '.join(missing)}")
        return cls(
            host=str(host),
            port=int(port),
            database=database,
            user=unquote(parts.username or ""),
            password=SecretStr(unquote(parts.password or "")),
            options=query,
        )


def _unquote_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    comment = re.search(r"\s#", value)
    return value[: comment.start()].rstrip() if comment else value


def parse_env_file(text: str) -> dict[str, str]:
    """Flat KEY=VALUE lines; blanks, `#` comments, `export` and quoted values tolerated."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key, _, value = stripped.removeprefix("export ").partition("=")
        values[key.strip()] = _unquote_value(value.strip())
    return values


def load_credentials(root: Path | str, alias: str) -> NexoCredentials:
    """Read `<root>/databases/<alias>/.env`, naming every missing key in the error."""
    try:
        check_db_alias(alias)
    except ValueError as exc:
        raise CredentialsError(str(exc)) from None
    path = Path(root) / "databases" / alias / ".env"
    if not path.is_file():
        raise CredentialsError(f"no credentials file at {path}")
    values = parse_env_file(path.read_text(encoding="utf-8"))
    missing = [key for key in REQUIRED_KEYS if not values.get(key)]
    if missing:
        raise CredentialsError(f"{path} does not set {', '.join(missing)}")
    port = values.get("PGPORT") or str(DEFAULT_PORT)
    if not port.isdigit():
        raise CredentialsError(f"{path}: PGPORT must be a number, not {port!r}")
    return NexoCredentials(
        host=values["PGHOST"],
        port=int(port),
        database=values["PGDATABASE"],
        user=values["PGUSER"],
        password=SecretStr(values["PGPASSWORD"]),
    )


def credentials_from_settings(settings: HarnessSettings) -> NexoCredentials:
    """`MIOT_HARNESS_NEXO_DSN` first, then the db-scripts root and alias; else a clear error."""
    if settings.nexo_dsn is not None:
        return NexoCredentials.from_dsn(settings.nexo_dsn.get_secret_value())
    if settings.nexo_db_scripts_root is not None:
        return load_credentials(settings.nexo_db_scripts_root, settings.nexo_db_alias)
    raise CredentialsError(
        "no Coordinador database configured: set MIOT_HARNESS_NEXO_DSN, or "
        "MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT (with MIOT_HARNESS_NEXO_DB_ALIAS)"
    )


def nexo_database_configured(settings: HarnessSettings) -> bool:
    """Whether settings name a Coordinador database (else commands use the embedded demo)."""
    return settings.nexo_dsn is not None or settings.nexo_db_scripts_root is not None
