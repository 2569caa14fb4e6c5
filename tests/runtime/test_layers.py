"""Dependency direction (SPEC 4): only the faces import the demo package."""

from __future__ import annotations

import ast
from pathlib import Path

import miot_harness

PACKAGE = Path(miot_harness.__file__).parent
FACES = ("api", "cli", "mcp", "evals", "demo")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_faces_import_the_demo_package() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in FACES:
            continue
        demo = [m for m in _imported_modules(path) if m.split(".")[:2] == ["miot_harness", "demo"]]
        if demo:
            offenders.append(f"{relative}: {', '.join(sorted(demo))}")
    assert offenders == []


def test_the_language_package_imports_nothing_of_the_project() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in (PACKAGE / "language").rglob("*.py")
        for module in _imported_modules(path)
        if module.startswith("miot_harness") and not module.startswith("miot_harness.language")
    ]
    assert offenders == []
