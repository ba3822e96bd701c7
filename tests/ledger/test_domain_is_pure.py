"""ledger/domain holds the rules as plain values and functions: it imports no database, web
framework or broker, and nothing of the layers above it (the service, the infrastructure)."""

from __future__ import annotations

import ast
from pathlib import Path

import ledger.domain

FORBIDDEN_PREFIXES = ("sqlalchemy", "flask", "pika", "alembic", "psycopg", "ledger.infra",
                      "ledger.service", "ledger.api", "ledger.console", "ledger.cli")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


def test_the_domain_imports_nothing_of_the_layers_above_or_of_the_frameworks() -> None:
    directory = Path(ledger.domain.__file__).parent
    modules = sorted(directory.glob("*.py"))
    assert any(path.name == "deciding.py" for path in modules)
    offending = {f"{path.name}: {name}" for path in modules for name in _imported(path)
                 if name.startswith(FORBIDDEN_PREFIXES)}
    assert offending == set()
