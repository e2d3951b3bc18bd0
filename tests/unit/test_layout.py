"""The layout shows the architecture: `shared/` is the library under the services, `tools/` the operators'
tools above them. Imports are read from the source (ast), function-local ones and `importlib` included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "candidacy", "jury")  # those with an application and its endpoints


def imported(path: Path) -> set[str]:
    """Every absolute module name the file imports, wherever the import sits (TYPE_CHECKING, a function,
    `importlib.import_module` or `__import__` of a literal or an f-string's literal start)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and _dynamic_import(node.func):
            first = node.args[0]
            if isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
                first = first.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def _dynamic_import(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or \
        (isinstance(func, ast.Name) and func.id in ("import_module", "__import__"))


def imports_from(folder: str, packages: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in sorted(imported(path)):
            if name.split(".")[0] in packages:
                found.append(f"{path.relative_to(ROOT)}: {name}")
    return found


def test_shared_imports_nothing_from_the_services_or_the_tools():
    """shared/ is the library the services use: it imports nothing from services/ or tools/."""
    assert imports_from("shared", ("services", "tools")) == []


def test_the_services_import_nothing_from_the_tools():
    """The operators' tools (tools/) sit above the services, which import nothing from them."""
    assert imports_from("services", ("tools",)) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_services_application_imports_nothing_from_its_endpoints(service):
    """A service's endpoints (api.py) sit above its application: the commands the application takes come
    from shared/commands/, never from api.py (which would make an import cycle)."""
    application = ROOT / "services" / service / "application.py"
    api = f"services.{service}.api"
    assert [n for n in imported(application) if n == api or n.startswith(api + ".")] == []


def test_the_reading_of_imports_sees_local_and_dynamic_ones(tmp_path):
    """The check itself: an import inside a function, under TYPE_CHECKING or through importlib is seen."""
    module = tmp_path / "module.py"
    module.write_text("import importlib\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import services.a\n"
                      "def f(name):\n    from tools import b\n    return importlib.import_module(f'services.{name}.c')\n")
    assert {"services.a", "tools", "tools.b", "services."} <= imported(module)
