"""One vocabulary across the API: every enumerated data value is snake_case and enumerated in
the OpenAPI document; problem codes are kebab-case (the last segment of the problem ``type``
URI) and every code the code base can answer is in the Problem schema's enum."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.cli.openapi import document

SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Values the norm names as they are: the four score letters (beperkt ... volkomen).
EXCEPTIONS = {"Score": {"B", "G", "T", "V"}}
# Field names that hold an enumerated value wherever they appear in a response.
ENUMERATED = re.compile(
    r"^(.*_)?(status|kind|result|role|audit_type|service_type|province|track|certificate|"
    r"professional_body|stream_type|score)s?$"
)
APP = Path(__file__).resolve().parent.parent / "app"
DOC = document()
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]


def _enums(node: Any, where: str) -> Iterator[tuple[str, list[Any]]]:
    if isinstance(node, dict):
        if "enum" in node:
            yield where, node["enum"]
        for key, value in node.items():
            yield from _enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _enums(value, f"{where}/{i}")


def test_every_enumerated_value_is_snake_case() -> None:
    checked = 0
    for where, values in _enums(DOC, "#"):
        if where == "#/components/schemas/Problem/properties/code":
            assert all(KEBAB.match(code) for code in values), values
            continue
        name = where.split("/")[3] if where.startswith("#/components/schemas/") else ""
        for value in values:
            if isinstance(value, int) or value in EXCEPTIONS.get(name, ()):
                continue
            assert SNAKE.match(value), f"{where}: {value!r} is not snake_case"
            checked += 1
    assert checked > 40


def _is_enum(schema: dict[str, Any]) -> bool:
    """Whether no free string hides in the field: an enum, or not a string at all."""
    if "$ref" in schema:
        return _is_enum(SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]])
    if "enum" in schema or "const" in schema or schema.get("type") in ("integer", "object"):
        return "propertyNames" not in schema or _is_enum(schema["propertyNames"])
    if "items" in schema:
        return _is_enum(schema["items"])
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return bool(options) and all(_is_enum(s) for s in options)


def test_no_enumerated_field_is_a_free_string() -> None:
    free = []
    seen = 0
    for name, schema in SCHEMAS.items():
        for field, prop in schema.get("properties", {}).items():
            if ENUMERATED.match(field) and name != "Problem":
                seen += 1
                if not _is_enum(prop):
                    free.append(f"{name}.{field}")
    assert not free, f"enumerated fields typed as free strings: {free}"
    assert seen > 20


def _codes_in_source() -> set[str]:
    """Every literal problem code in app/: ``code = "..."`` class attributes, ``_error("...")``
    classes, and the code argument of ``problem_response``/``_refuse``."""
    codes: set[str] = set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and [getattr(t, "id", None) for t in stmt.targets] == ["code"]
                        and isinstance(stmt.value, ast.Constant)
                    ):
                        codes.add(str(stmt.value.value))
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                literals = [
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
                if (name == "_error" and literals) or (
                    name in ("problem_response", "_refuse") and literals
                ):
                    codes.add(literals[0])
    return codes


def test_every_problem_code_the_code_base_answers_is_enumerated() -> None:
    enumerated = set(SCHEMAS["Problem"]["properties"]["code"]["enum"])
    raised = _codes_in_source()
    assert len(raised) > 30
    assert raised <= enumerated, f"not in the Problem code enum: {sorted(raised - enumerated)}"
    assert all(KEBAB.match(code) for code in enumerated)
