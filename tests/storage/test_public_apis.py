"""The store reaches into no library's private attributes (issue 8: it once drove aiosqlite's
worker queue and thread directly, and broke with each release)."""

from __future__ import annotations

import ast
from pathlib import Path

STORAGE = Path(__file__).resolve().parents[2] / "storage"
# Documented public API despite the underscore (SQLAlchemy names it so to avoid column names).
ALLOWED = {"_mapping"}


def private_attributes(path: Path) -> list[str]:
    """`obj._name` uses in a module where `obj` is not `self` or `cls`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") or node.attr in ALLOWED:
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        found.append(f"{path.name}:{node.lineno} .{node.attr}")
    return found


def test_no_module_of_the_store_uses_another_objects_private_attributes() -> None:
    modules = sorted(STORAGE.rglob("*.py"))
    assert len(modules) > 10
    assert [use for path in modules for use in private_attributes(path)] == []
