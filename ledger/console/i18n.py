"""The console's two languages (SPEC §13): 简体中文 by default, English.

`?lang=zh-CN` or `?lang=en` chooses, and the session remembers it; otherwise the browser's
Accept-Language decides. Every text a person reads is a message in a catalog: the templates and
views write English message ids, and each area of the console keeps the 简体中文 of its own
messages in `<area>/translations/zh_Hans_CN/LC_MESSAGES/messages.po`, beside its templates.

The catalogs are read from their .po files when the app starts (Babel compiles them in memory):
no compiled .mo files to build, commit or let fall out of date. tests/console/test_catalogs.py
checks that every message of every template and view has its 简体中文.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, request, session, url_for
from flask_babel import Babel, Domain, get_locale
from werkzeug.exceptions import HTTPException

# What `?lang=` takes, and the Babel locale of each.
LANGUAGES = {"zh-CN": "zh_Hans_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh-CN"
SESSION_KEY = "lang"
TIMEZONE = "Asia/Shanghai"
CONSOLE_DIRECTORY = Path(__file__).parent
CATALOG_NAME = "messages.po"
# What every other address under /console/ matches: the console's 404 page.
NO_SUCH_PAGE_ENDPOINT = "console.home.unknown"


def catalog_files(locale: str = "zh_Hans_CN") -> Iterator[Path]:
    """Every area's catalog for `locale`, the console's own first."""
    yield from sorted(CONSOLE_DIRECTORY.glob(f"**/translations/{locale}/LC_MESSAGES/"
                                             f"{CATALOG_NAME}"))


class CatalogDomain(Domain):  # type: ignore[misc]  # flask-babel ships no types
    """flask-babel's Domain, with its translations made from the .po catalogs of every area."""

    def __init__(self) -> None:
        super().__init__()
        self._compiled: dict[str, NullTranslations] = {}

    def get_translations(self) -> NullTranslations:
        locale = str(get_locale())
        if locale not in self._compiled:
            self._compiled[locale] = compiled_translations(locale)
        return self._compiled[locale]


def compiled_translations(locale: str) -> NullTranslations:
    merged: NullTranslations | None = None
    for path in catalog_files(locale):
        with path.open("rb") as source:
            catalog = read_po(source, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        translations = Translations(buffer)
        if isinstance(merged, Translations):
            merged.merge(translations)
        else:
            merged = translations
    return merged if merged is not None else NullTranslations()


def chosen_language() -> str:
    """`zh-CN` or `en`: asked for now, remembered, or preferred by the browser."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        if session.get(SESSION_KEY) != asked:
            session[SESSION_KEY] = asked
        return asked
    remembered = session.get(SESSION_KEY)
    if remembered in LANGUAGES:
        return str(remembered)
    preferred = request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE)
    # Any Chinese the browser asks for is served in 简体中文, the only Chinese we have.
    if preferred == "en" and _prefers_chinese():
        return DEFAULT_LANGUAGE
    return preferred


def _prefers_chinese() -> bool:
    for value, _quality in request.accept_languages:
        language = value.lower()
        if language.startswith("zh"):
            return True
        if language.startswith("en"):
            return False
    return False


def _select_locale() -> str | None:
    if not request.path.startswith("/console"):
        return None  # the API answers in English
    return LANGUAGES[chosen_language()]


def install(app: Flask) -> Babel:
    babel = Babel()
    babel.init_app(app, default_locale="zh_Hans_CN", default_timezone=TIMEZONE,
                   locale_selector=_select_locale)
    # flask-babel makes its domain once, lazily: ours is set in its place before first use.
    babel.domain_instance = CatalogDomain()
    app.jinja_env.globals.update(html_language=html_language, language_url=language_url)
    return babel


def html_language() -> str:
    """The page's `lang` attribute (BCP 47)."""
    locale = get_locale()
    return "en" if locale is None or locale.language == "en" else "zh-CN"


def language_url(language: str) -> str:
    """This page again, in `language` (its query kept); a page that answered a form (a POST
    address may take no GET) switches on the console's home instead, which leads back to the
    user's own."""
    if request.method != "GET" and not _takes_get(request.path):
        return url_for("console.home.index", lang=language)
    arguments = {**request.args.to_dict(), **(request.view_args or {}), "lang": language}
    return url_for(request.endpoint or "console.home.index", **arguments)


def _takes_get(path: str) -> bool:
    """Whether some page answers a GET at this address (an area may put one where its form
    posts, to lead back to the form's page)."""
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return False
    return bool(endpoint != NO_SUCH_PAGE_ENDPOINT)


def locale_of(language: str) -> Locale:
    return Locale.parse(LANGUAGES[language])
