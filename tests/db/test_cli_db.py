"""`miot-harness db up | seed | refresh | status | down` in a temporary data directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from miot_harness.demo.cluster import DemoCluster
from miot_harness.demo.layout import env_path, read_env
from miot_harness.demo.seeding import database_exists


def _db(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "miot_harness", "db", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_up_is_idempotent_and_masks_the_password(data_dir: Path) -> None:
    first = _db(data_dir, "up")
    assert first.returncode == 0, first.stderr
    creds = read_env(env_path(data_dir / "db-scripts", "demo"))
    assert creds is not None
    stamp = DemoCluster(data_dir).status()
    second = _db(data_dir, "up")
    assert second.returncode == 0, second.stderr
    assert read_env(env_path(data_dir / "db-scripts", "demo")) == creds
    assert DemoCluster(data_dir).status() == stamp
    for out in (first.stdout, second.stdout):
        assert creds.password not in out
        assert "harness:****@/coordinador" in out
        assert f"MIOT_HARNESS_NEXO_DB_SCRIPTS_ROOT={data_dir / 'db-scripts'}" in out
        assert "MIOT_HARNESS_NEXO_DB_ALIAS=demo" in out


def test_status_prints_counts_and_refresh_stamps(data_dir: Path) -> None:
    result = _db(data_dir, "status")
    assert result.returncode == 0, result.stderr
    assert "nexo.servicio" in result.stdout and "20,000" in result.stdout
    assert "servicios" in result.stdout and "refreshed_at" in result.stdout


def test_seed_and_refresh_with_stale_minutes(data_dir: Path) -> None:
    seeded = _db(data_dir, "seed", "--seed", "3", "--scale", "300", "--stale-minutes", "20")
    assert seeded.returncode == 0, seeded.stderr
    assert "300 servicios" in seeded.stdout and "digest" in seeded.stdout
    status = DemoCluster(data_dir).status()
    assert status is not None
    assert status.row_counts["servicio"] == 300
    assert status.parametros["seed"] == "3"
    stale = min(status.refreshed_at.values())
    refreshed = _db(data_dir, "refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    status = DemoCluster(data_dir).status()
    assert status is not None
    assert min(status.refreshed_at.values()) > stale


def test_sigterm_mid_seed_keeps_the_previous_database(data_dir: Path) -> None:
    cluster = DemoCluster(data_dir)
    address = cluster.start()
    command = [sys.executable, "-m", "miot_harness", "db", "seed", "--scale", "400000"]
    seeding = subprocess.Popen(
        [*command, "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with address.connect() as admin:
            while not database_exists(admin, "coordinador__building"):
                assert seeding.poll() is None, seeding.stderr.read() if seeding.stderr else ""
                time.sleep(0.05)
        seeding.send_signal(signal.SIGTERM)
        assert seeding.wait(timeout=120) == 128 + signal.SIGTERM
    finally:
        seeding.kill()
        seeding.wait()
    with address.connect() as admin:
        assert not database_exists(admin, "coordinador__building")
    status = cluster.status()
    assert status is not None and status.row_counts["servicio"] == 300


def test_seed_rejects_a_bad_anchor_date(data_dir: Path) -> None:
    result = _db(data_dir, "seed", "--anchor-date", "25-11-2026")
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stdout


def test_down_stops_the_server_and_status_says_so(data_dir: Path) -> None:
    stopped = _db(data_dir, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert "detenido" in stopped.stdout
    assert DemoCluster(data_dir).address() is None
    status = _db(data_dir, "status")
    assert status.returncode == 1
    assert "no está corriendo" in status.stdout
    again = _db(data_dir, "down")
    assert "no estaba corriendo" in again.stdout
