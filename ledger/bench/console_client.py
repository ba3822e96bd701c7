"""A browser-shaped client of the console for `bench console`: a cookie jar, forms read from the
pages (their CSRF token, hidden fields, the first choice of a select), redirects followed one
by one so that the bench can time what a person waits for.

Plain HTTP on a local port: no Referer check applies (Flask-WTF checks it over HTTPS only).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from typing import IO, Any

from ledger.bench.ingest import BenchFailed

REQUEST_TIMEOUT_S = 60.0
# A page that answers with more redirects than this is going round in circles.
REDIRECTS_MAX = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
ANSWER_PREVIEW_CHARS = 300


@dataclass(frozen=True)
class Answer:
    status: int
    url: str
    location: str | None
    text: str

    def expect(self, *statuses: int) -> Answer:
        if self.status not in statuses:
            raise BenchFailed(f"{self.url} answered {self.status}, not {statuses}: "
                              f"{self.text[:ANSWER_PREVIEW_CHARS]!r}")
        return self


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormReader(HTMLParser):
    """Every form of a page with what a browser would send for it untouched: inputs with their
    value, a select's selected (else first) option, a textarea's text. Buttons are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._select_chosen = False

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        named = {name: value or "" for name, value in attributes}
        if tag == "form":
            self.forms.append(Form(named.get("action", ""), named.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and "name" in named and named.get("type") not in ("submit",
                                                                               "button"):
            self.forms[-1].fields[named["name"]] = named.get("value", "")
        elif tag == "select" and "name" in named:
            self._select, self._select_chosen = named["name"], False
        elif tag == "option" and self._select is not None:
            fields = self.forms[-1].fields
            if "selected" in named:
                fields[self._select], self._select_chosen = named.get("value", ""), True
            elif not self._select_chosen and self._select not in fields:
                fields[self._select] = named.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms_of(page: str) -> list[Form]:
    reader = _FormReader()
    reader.feed(page)
    reader.close()
    return reader.forms


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer of its own: the bench follows it, and times it, itself."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Message, newurl: str) -> None:
        return None


class ConsoleClient:
    """One person's browser: their cookies, one request at a time."""

    def __init__(self, base_url: str) -> None:
        if not base_url.startswith("http://"):
            raise ValueError("the bench's console is served over plain HTTP on a local port")
        self._base_url = base_url.rstrip("/")
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects())

    def get(self, path: str) -> Answer:
        return self._send(urllib.request.Request(  # noqa: S310 (the bench's http:// base)
            self._absolute(path), method="GET"))

    def post(self, path: str, fields: dict[str, str]) -> Answer:
        body = urllib.parse.urlencode(fields).encode("utf-8")
        return self._send(urllib.request.Request(  # noqa: S310 (the bench's http:// base)
            self._absolute(path), data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"}))

    def follow(self, answer: Answer) -> Answer:
        """GET where a redirect leads, and on, until a page answers."""
        for _ in range(REDIRECTS_MAX):
            if answer.status not in REDIRECT_STATUSES:
                return answer
            if answer.location is None:
                raise BenchFailed(f"{answer.url} answered {answer.status} without a Location")
            answer = self.get(answer.location)
        raise BenchFailed(f"{answer.url}: more than {REDIRECTS_MAX} redirects in a row")

    def sign_in(self, username: str, password: str) -> Answer:
        """Sign in through the sign-in page's form; the user's home page."""
        page = self.get("/console/login").expect(200)
        fields = form_with_field(page, "password").fields
        fields.update(username=username, password=password)
        home = self.follow(self.post("/console/login", fields).expect(302, 303))
        return home.expect(200)

    def _absolute(self, path: str) -> str:
        return urllib.parse.urljoin(self._base_url + "/", path)

    def _send(self, request: urllib.request.Request) -> Answer:
        try:
            response: Any = self._opener.open(request, timeout=REQUEST_TIMEOUT_S)
        except urllib.error.HTTPError as error:  # 3xx not followed, 4xx, 5xx: answers too
            response = error
        except OSError as error:
            raise BenchFailed(f"{request.full_url}: {error}") from None
        with response:
            text = response.read().decode("utf-8", errors="replace")
            return Answer(response.status, request.full_url, response.headers.get("Location"),
                          text)


def form_with_field(answer: Answer, name: str) -> Form:
    """The page's first form that has a field `name`."""
    for form in forms_of(answer.text):
        if name in form.fields:
            return form
    raise BenchFailed(f"{answer.url} has no form with a field {name!r}")


def form_with_action(answer: Answer, action_part: str) -> Form | None:
    """The page's first form whose action contains `action_part`, if any."""
    return next((form for form in forms_of(answer.text) if action_part in form.action), None)
