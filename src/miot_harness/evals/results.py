"""`evals/results/<short-sha>.json`: one section per mode; a new run replaces only its own."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from pydantic import SecretStr

from miot_harness.evals.paths import ROOT
from miot_harness.settings import HarnessSettings

DEFAULT_RESULTS_DIR = ROOT / "evals" / "results"


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def short_sha() -> str:
    """The checked-out commit's short hash, or "nogit" outside a repository."""
    return _git("rev-parse", "--short", "HEAD") or "nogit"


def tracked_changes() -> bool | None:
    """Whether tracked files differ from the commit (the result then is not that commit's)."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


def _is_secret(field: str) -> bool:
    annotation = HarnessSettings.model_fields[field].annotation
    return annotation is SecretStr or SecretStr in get_args(annotation)


def public_settings(settings: HarnessSettings) -> dict[str, Any]:
    """The settings as JSON, every secret replaced by "set" (or null when unset)."""
    public: dict[str, Any] = {}
    for name in HarnessSettings.model_fields:
        value = getattr(settings, name)
        if _is_secret(name):
            public[name] = None if value is None else "set"
        elif isinstance(value, Path):
            public[name] = str(value)
        else:
            public[name] = value
    return public


def write_mode_section(results_dir: Path, sha: str, mode: str, section: dict[str, Any]) -> Path:
    """Merge `section` as `modes[mode]` into `<results_dir>/<sha>.json`, atomically."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{sha}.json"
    document: dict[str, Any] = {"commit": sha, "modes": {}}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            loaded = {}
        if isinstance(loaded, dict) and isinstance(loaded.get("modes"), dict):
            document = loaded
    document["commit"] = sha
    document["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    document["modes"][mode] = section
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1, default=str) + "\n")
    tmp.replace(path)
    return path
