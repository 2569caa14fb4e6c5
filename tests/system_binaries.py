"""System programs some tests drive (Debian packages), found on PATH or named in one line."""

from __future__ import annotations

import shutil

import pytest


def require_binary(program: str, package: str) -> str:
    """The path of `program`; else the test fails with one line naming the package to install."""
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"{program} is not on PATH: install the Debian package {package!r} "
            f"(apt-get install {package}; scripts/test does it), or add its directory to PATH",
            pytrace=False,
        )
    return path
