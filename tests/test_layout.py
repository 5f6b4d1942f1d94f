"""The house's import rule, as the README's "How the code is organised" draws it.

Each module of ``app`` lives in one room (a package, or the app factory); a room may import only
the rooms below it. The test reads every import statement (those inside functions too: the CLI
imports lazily, and a lazy import is still a dependency), so a change that reaches upward fails
here, not in a reviewer's eye.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# room -> the rooms it may import (besides itself). Keep in step with the README.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "runtime": frozenset({"domain"}),
    "events": frozenset({"domain", "runtime"}),
    "services": frozenset({"domain", "runtime", "events"}),
    "documents": frozenset({"domain", "runtime"}),
    "api": frozenset({"domain", "runtime", "events", "services", "documents"}),
    "web": frozenset({"domain", "runtime", "events", "services", "documents", "api"}),
    "main": frozenset({"domain", "runtime", "events", "services", "documents", "api", "web"}),
    "demo": frozenset({"domain", "runtime", "events", "services"}),
    "cli": frozenset(
        {"domain", "runtime", "events", "services", "documents", "api", "web", "main", "demo"}
    ),
    "__main__": frozenset({"cli"}),
}
ROOMS = frozenset(MAY_IMPORT)


def _room(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "app", module
    return parts[1] if len(parts) > 1 else "app"


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        found.append((".".join(parts), path))
    return found


def _imports(module: str, path: Path) -> list[str]:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    named: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                named.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                named.append(node.module)
    return [name for name in named if name == "app" or name.startswith("app.")]


def test_every_module_lives_in_a_room_the_rule_names() -> None:
    strays = [
        module
        for module, path in _modules()
        if module != "app.__init__" and _room(module) not in ROOMS
    ]
    assert strays == [], f"modules outside the house's rooms (README): {strays}"


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda v: str(v))
def test_a_room_imports_only_the_rooms_below_it(module: str, path: Path) -> None:
    room = _room(module)
    if room == "app":
        return
    upward = sorted(
        name
        for name in _imports(module, path)
        if name != "app" and _room(name) != room and _room(name) not in MAY_IMPORT[room]
    )
    assert upward == [], f"{module} ({room}) may not import {upward}"


def test_each_package_says_what_lives_there_and_what_it_may_import() -> None:
    silent = []
    for init in sorted(APP.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if "may import" not in doc.lower():
            silent.append(str(init.relative_to(APP.parent)))
    assert silent == []


def test_no_module_is_a_hallway() -> None:
    long = {
        str(path.relative_to(APP.parent)): n
        for _, path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert long == {}


def test_only_the_app_factory_mounts_the_routers() -> None:
    """Inside HTTP, the mechanics (``app.api.http``), the read side (``app.api.queries``), the
    schemas and the webhook delivery serve the routers; none of them imports a router, and
    below HTTP nothing does at all."""
    reaching = sorted(
        f"{module} -> {name}"
        for module, path in _modules()
        if not module.startswith(("app.api.routers", "app.main", "app.cli", "app.web"))
        for name in _imports(module, path)
        if name.startswith("app.api.routers")
    )
    assert reaching == []


def _readme_tree() -> str:
    readme = (APP.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How the code is organised", 1)[1]
    return section.split("```", 2)[1]


def test_the_readme_draws_the_tree_as_it_is() -> None:
    """Every package of ``app`` and of ``app.api`` has its line in the README's tree, and every
    folder the tree names under ``app/`` and ``app/api/`` exists."""
    tree = _readme_tree()
    drawn_top = set(re.findall(r"^  (\w+)/", tree, flags=re.M))
    drawn_api = set(
        re.findall(r"^    (\w+)/", tree.split("  api/", 1)[1].split("\n  web/", 1)[0], flags=re.M)
    )
    real_top = {p.name for p in APP.iterdir() if (p / "__init__.py").exists()}
    real_api = {p.name for p in (APP / "api").iterdir() if (p / "__init__.py").exists()}
    assert drawn_top == real_top
    assert drawn_api == real_api
