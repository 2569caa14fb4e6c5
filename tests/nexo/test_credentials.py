"""Credentials from a db-scripts `.env` or a DSN; the password never shows."""

from __future__ import annotations

import pytest

from miot_harness.nexo.credentials import (
    CredentialsError,
    NexoCredentials,
    credentials_from_settings,
    load_credentials,
)
from miot_harness.settings import HarnessSettings


def _write_env(root, text, alias="demo"):
    folder = root / "databases" / alias
    folder.mkdir(parents=True)
    (folder / ".env").write_text(text, encoding="utf-8")


def test_env_file_with_comments_blanks_quotes_and_default_port(tmp_path):
    _write_env(
        tmp_path,
        "# Coordinador\n\nexport PGHOST=db.internal\nPGDATABASE='coordinador'\n"
        'PGUSER=harness  # the login role\nPGPASSWORD="p@ss:w/rd #1"\n',
    )
    creds = load_credentials(tmp_path, "demo")
    assert (creds.host, creds.port, creds.database, creds.user) == (
        "db.internal",
        5432,
        "coordinador",
        "harness",
    )
    assert creds.password.get_secret_value() == "p@ss:w/rd #1"
    assert creds.dsn == "postgresql://harness:p%40ss%3Aw%2Frd%20%231@db.internal:5432/coordinador"
    assert "p@ss" not in repr(creds) and "p@ss" not in str(creds)
    assert "***" in creds.masked_dsn and "p%40ss" not in creds.masked_dsn


def test_missing_keys_are_named(tmp_path):
    _write_env(tmp_path, "PGHOST=x\nPGUSER=harness\n")
    with pytest.raises(CredentialsError, match="does not set PGDATABASE, PGPASSWORD"):
        load_credentials(tmp_path, "demo")


def test_missing_file_and_bad_alias(tmp_path):
    with pytest.raises(CredentialsError, match="no credentials file"):
        load_credentials(tmp_path, "demo")
    with pytest.raises(CredentialsError, match="not a plain name"):
        load_credentials(tmp_path, "../etc")


def test_socket_host_goes_in_the_query(tmp_path):
    _write_env(tmp_path, "PGHOST=/tmp/pg sock\nPGPORT=5433\nPGDATABASE=c\nPGUSER=h\nPGPASSWORD=x\n")
    creds = load_credentials(tmp_path, "demo")
    assert creds.dsn == "postgresql://h:x@/c?host=%2Ftmp%2Fpg+sock&port=5433"
    assert NexoCredentials.from_dsn(creds.dsn) == creds


def test_settings_prefer_the_dsn_then_the_scripts_root(tmp_path):
    _write_env(tmp_path, "PGHOST=h\nPGDATABASE=d\nPGUSER=u\nPGPASSWORD=p\n")
    by_dsn = credentials_from_settings(
        HarnessSettings(nexo_dsn="postgresql://a:b@x:6432/y", nexo_db_scripts_root=tmp_path)
    )
    assert (by_dsn.host, by_dsn.port, by_dsn.user, by_dsn.database) == ("x", 6432, "a", "y")
    by_root = credentials_from_settings(HarnessSettings(nexo_db_scripts_root=tmp_path))
    assert by_root.database == "d"
    with pytest.raises(CredentialsError, match="MIOT_HARNESS_NEXO_DSN"):
        credentials_from_settings(HarnessSettings())


def test_a_hyphenated_alias_reads_its_folder(tmp_path):
    _write_env(
        tmp_path, "PGHOST=h\nPGDATABASE=prod\nPGUSER=u\nPGPASSWORD=p\n", "coordinador-prod-harness"
    )
    assert load_credentials(tmp_path, "coordinador-prod-harness").database == "prod"
    settings = HarnessSettings(
        nexo_db_scripts_root=tmp_path, nexo_db_alias="coordinador-prod-harness"
    )
    assert credentials_from_settings(settings).database == "prod"


@pytest.mark.parametrize("alias", ["..", "a/../b", "/etc", "a\\b", "x\n", "a..b", "-rf"])
def test_traversal_and_odd_aliases_are_refused_before_any_file_is_read(tmp_path, alias):
    with pytest.raises(CredentialsError, match="not a plain name"):
        load_credentials(tmp_path, alias)
