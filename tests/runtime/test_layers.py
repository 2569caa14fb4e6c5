"""Dependency direction (SPEC 4): only the faces import the demo package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


OFFLINE_MODEL = "miot_harness.models.offline"


def _called_name(call: ast.Call) -> str | None:
    """`f` of `f(…)` or `m.f(…)`."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else None


def _offline_model_imports(source: str, module: str) -> list[str]:
    """Every name `source` (the text of `module`) imports from the offline model, however
    written: `import`, `from … import`, relative, or `importlib.import_module("…")`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.rsplit(".", node.level)[0]
                base = f"{package}.{base}" if base else package
            found += [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and _called_name(node) == "import_module" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(first.value)
    return sorted(
        {name for name in found if name == OFFLINE_MODEL or name.startswith(f"{OFFLINE_MODEL}.")}
    )


@pytest.mark.parametrize(
    "source",
    [
        "import miot_harness.models.offline.ranking",
        "from miot_harness.models.offline import OfflineChatModel",
        "from miot_harness.models import offline",
        "def later():\n    from ...models.offline.ranking import rank",
        "import importlib\nimportlib.import_module('miot_harness.models.offline')",
    ],
)
def test_the_guard_sees_every_way_of_importing_the_offline_model(source: str) -> None:
    assert _offline_model_imports(source, "miot_harness.nexo.agents.router") != []


def test_the_guard_leaves_other_models_modules_alone() -> None:
    source = "from miot_harness.models import factory\nimport miot_harness.models.offline_notes"
    assert _offline_model_imports(source, "miot_harness.routing") == []


def test_only_the_models_package_imports_the_offline_model() -> None:
    offenders, checked = [], set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "models":
            continue
        checked.add(relative.as_posix())
        module = ".".join(("miot_harness", *relative.with_suffix("").parts))
        if found := _offline_model_imports(path.read_text("utf-8"), module):
            offenders.append(f"{relative}: {', '.join(found)}")
    faces = {"evals/scorers.py", "api/app.py", "cli/run.py", "mcp/server.py", "web/router.py"}
    assert {"routing.py", "storytelling/plan.py", "nexo/agents/filter_values.py"} <= checked
    assert faces <= checked
    assert offenders == []
