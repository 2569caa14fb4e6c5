"""The sealed holdouts stay sealed: each file, and its blob at the sealing commit the evals
README names, have the sha256 the README records, and no sealed file goes unrecorded."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVALS = ROOT / "evals"
SEAL_ROW = re.compile(
    r"^\| `(golden/nexo/sealed-[^`]+\.yaml)` \| `([0-9a-f]{40})` \| `([0-9a-f]{64})` \|$",
    re.MULTILINE,
)
SEALS = SEAL_ROW.findall((EVALS / "README.md").read_text("utf-8"))


def git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout


def test_the_readme_records_every_sealed_file_once() -> None:
    recorded = [path for path, _, _ in SEALS]
    on_disk = sorted(p.relative_to(EVALS).as_posix() for p in EVALS.glob("golden/*/sealed-*"))
    assert "golden/nexo/sealed-holdout.yaml" in recorded
    assert sorted(recorded) == on_disk


@pytest.mark.parametrize(("path", "commit", "sha256"), SEALS, ids=[p for p, _, _ in SEALS])
def test_a_sealed_file_is_byte_for_byte_what_its_sealing_commit_added(
    path: str, commit: str, sha256: str
) -> None:
    repo_path = f"evals/{path}"
    sealed = git("show", f"{commit}:{repo_path}")
    added_by = git("log", "--diff-filter=A", "--format=%H", "--", repo_path).split()
    assert added_by == [commit.encode()], "the recorded commit is the one that added the file"
    assert hashlib.sha256(sealed).hexdigest() == sha256, "the README's hash is the sealed one"
    assert hashlib.sha256((ROOT / repo_path).read_bytes()).hexdigest() == sha256, "edited"
