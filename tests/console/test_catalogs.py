"""Both languages complete (SPEC §13): every message of every console template and view has its
简体中文, and no catalog keeps messages nobody uses (`python -m ledger.console.catalogs`)."""

from __future__ import annotations

from ledger.console.catalogs import areas, problems


def test_every_console_message_has_its_chinese() -> None:
    found = [problem for area in areas() for problem in problems(area)]
    assert found == [], "run `python -m ledger.console.catalogs`, then translate:\n" + \
        "\n".join(found)


def test_every_area_is_covered_by_a_catalog() -> None:
    names = {area.directory.name for area in areas()}
    assert {"console", "counter", "branch", "rules", "ledger_pages", "admin",
            "platform"} <= names
