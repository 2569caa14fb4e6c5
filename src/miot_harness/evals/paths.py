"""Where the evals' default files live: the project checkout, found from the working directory."""

from __future__ import annotations

from pathlib import Path

_MARKER = Path("evals") / "golden"


def project_root() -> Path:
    """The nearest folder up from the working directory holding `evals/golden`.

    Falls back to the source checkout this package runs from, then the working directory.
    """
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / _MARKER).is_dir():
            return folder
    source = Path(__file__).resolve().parents[3]
    return source if (source / _MARKER).is_dir() else here


ROOT = project_root()
