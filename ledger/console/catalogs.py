"""The console's message catalogs: what each area's templates and views say, and its 简体中文.

    python -m ledger.console.catalogs               # add new messages to every catalog, drop old
    python -m ledger.console.catalogs --area rules  # the same for one area only
    python -m ledger.console.catalogs --check       # exit 1 naming what is untranslated or stale

An area is the console package itself (its own modules and templates/) or one of its
sub-packages (everything under it); each keeps its catalog in
`translations/zh_Hans_CN/LC_MESSAGES/messages.po`. Updating keeps every translation made and
leaves new messages untranslated (empty): `--check`, which the tests run, then names them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

from ledger.console.i18n import CATALOG_NAME, CONSOLE_DIRECTORY

LOCALE = "zh_Hans_CN"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None,
            "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "trimmed": "true"}
CATALOG_DATE = datetime(2026, 12, 6, tzinfo=UTC)


@dataclass(frozen=True)
class Area:
    directory: Path
    sources: tuple[Path, ...]

    @property
    def catalog_path(self) -> Path:
        return self.directory / "translations" / LOCALE / "LC_MESSAGES" / CATALOG_NAME


def areas() -> list[Area]:
    """The console itself, then each sub-package with its own catalog."""
    packages = sorted(path.parent for path in CONSOLE_DIRECTORY.glob("*/__init__.py"))
    own = [path for path in CONSOLE_DIRECTORY.glob("*.py")]
    own += list((CONSOLE_DIRECTORY / "templates").rglob("*.html"))
    found = [Area(CONSOLE_DIRECTORY, tuple(sorted(own)))]
    for package in packages:
        sources = [*package.rglob("*.py"), *package.rglob("*.html")]
        found.append(Area(package, tuple(sorted(sources))))
    return found


def messages_of(area: Area) -> dict[str | tuple[str, str], list[tuple[str, int]]]:
    """Every message id the area's sources use, with where."""
    found: dict[str | tuple[str, str], list[tuple[str, int]]] = {}
    for source in area.sources:
        method: Any = babel_extract if source.suffix == ".html" else "python"
        options = JINJA_OPTIONS if source.suffix == ".html" else {}
        for line, message, _comments, _context in extract_from_file(
                method, str(source), keywords=KEYWORDS, options=options):
            key = message if isinstance(message, str) else (message[0], message[1])
            where = str(source.relative_to(CONSOLE_DIRECTORY.parent.parent))
            found.setdefault(key, []).append((where, line))
    return found


def new_catalog() -> Catalog:
    # Fixed dates, so that updating a catalog changes only what changed in it.
    return Catalog(locale=LOCALE, project="pointsledger console", version="1",
                   creation_date=CATALOG_DATE, revision_date=CATALOG_DATE, fuzzy=False)


def read_catalog(area: Area) -> Catalog:
    if not area.catalog_path.exists():
        return new_catalog()
    with area.catalog_path.open("rb") as source:
        return read_po(source, locale=LOCALE)


def problems(area: Area) -> Iterator[str]:
    """What keeps the area's catalog from being complete and current."""
    catalog = read_catalog(area)
    used = messages_of(area)
    for key in sorted(used, key=str):
        message = catalog.get(key if isinstance(key, str) else key[0])
        if message is None:
            yield f"{area.catalog_path}: no entry for {key!r}"
        elif message.fuzzy or not _translated(message.string):
            yield f"{area.catalog_path}: {key!r} is not translated"
    for message in catalog:
        if message.id and (message.id not in used and
                           not any(isinstance(k, tuple) and k[0] == message.id for k in used)):
            yield f"{area.catalog_path}: {message.id!r} is no longer used"


def _translated(string: object) -> bool:
    return all(string) if isinstance(string, tuple | list) else bool(string)


def update(area: Area) -> None:
    """Add the area's new messages (untranslated), drop those no longer used."""
    old = read_catalog(area)
    catalog = new_catalog()
    for key, locations in messages_of(area).items():
        before = old.get(key if isinstance(key, str) else key[0])
        string: Any = (before.string if before is not None
                       else ("" if isinstance(key, str) else ("",)))
        catalog.add(key, string, locations=locations)
    area.catalog_path.parent.mkdir(parents=True, exist_ok=True)
    with area.catalog_path.open("wb") as target:
        write_po(target, catalog, width=100, sort_output=True, omit_header=False)


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    parser.add_argument("--area", help="only this area (its directory's name; the console's "
                                       "own is `console`)")
    options = parser.parse_args(arguments)
    chosen = [area for area in areas()
              if options.area is None or area.directory.name == options.area]
    if not chosen:
        parser.error(f"no area {options.area!r}")
    if options.check:
        found = [problem for area in chosen for problem in problems(area)]
        for problem in found:
            print(problem)
        return 1 if found else 0
    for area in chosen:
        update(area)
    return 0


if __name__ == "__main__":
    sys.exit(main())
