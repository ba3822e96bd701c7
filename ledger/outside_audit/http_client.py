"""The ledger's HTTP API as an auditor reaches it: the standard library's client, a timeout on
every request, a bound on every answer, no redirect followed (a redirect would carry the token
to wherever it points), and every way a request can go wrong said in one sentence."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import IO

from ledger.outside_audit.errors import ServerError, ServerRefused, UsageError

REQUEST_TIMEOUT_S = 30.0
# An answer larger than its bound is not what the protocol returns: refuse it rather than
# hold it. A checkpoint with 100 signatures is about 12 KiB; a proof has at most 64 hashes;
# a page of 1000 entries, each at most an 8 KiB body and its headers, stays under 32 MiB.
NOTE_SIZE_MAX_BYTES = 64 * 1024
PROOF_SIZE_MAX_BYTES = 64 * 1024
PAGE_SIZE_MAX_BYTES = 32 * 1024 * 1024
LIST_SIZE_MAX_BYTES = 1024 * 1024  # a page of platforms, or of one platform's keys
PROBLEM_DETAIL_CHARS_MAX = 300
USER_AGENT = "pointsledger-audit"


class TokenRefused(UsageError):
    """The server answered 401 or 403: the token is missing, expired or not an auditor's."""


def base_url_of(text: str) -> str:
    """The server's base URL without a trailing slash; UsageError for anything but an http(s)
    URL naming a host, without credentials, query or fragment."""
    try:
        parts = urllib.parse.urlsplit(text.strip())
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise UsageError(f"--url {text!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url {text!r} is not an http:// or https:// URL naming a host")
    if parts.username is not None or parts.password is not None:
        raise UsageError("--url must not hold credentials: give the token with --token")
    if parts.query or parts.fragment:
        raise UsageError(f"--url {text!r} must not hold a query or a fragment")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx becomes an HTTPError: the auditor asked this server, not another one."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int,
                         msg: str, headers: http.client.HTTPMessage,
                         newurl: str) -> None:
        return None


class LogClient:
    """GET requests to one ledger's API; the token goes only where `authenticated` says."""

    def __init__(self, base_url: str, token: str | None,
                 timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.base_url = base_url_of(base_url)
        self._token = token
        self._timeout_s = timeout_s
        self._opener = urllib.request.build_opener(_RefuseRedirects())

    def text(self, path: str, size_max_bytes: int) -> str:
        body = self._get(path, {}, size_max_bytes, authenticated=False)
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise ServerError(f"the server's answer to GET {path} is not UTF-8 text") from None

    def json(self, path: str, query: Mapping[str, int | str], size_max_bytes: int,
             authenticated: bool) -> object:
        body = self._get(path, query, size_max_bytes, authenticated)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise ServerError(f"the server's answer to GET {path} is not JSON") from None

    def _get(self, path: str, query: Mapping[str, int | str], size_max_bytes: int,
             authenticated: bool) -> bytes:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, text/plain"}
        if authenticated:
            if self._token is None:
                raise UsageError(f"GET {path} needs an auditor's token (--token)")
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 (checked scheme)
        try:
            with self._opener.open(request, timeout=self._timeout_s) as response:
                body: bytes = response.read(size_max_bytes + 1)
        except urllib.error.HTTPError as error:
            raise self._refusal(path, error) from None
        except urllib.error.URLError as error:
            raise ServerError(self._unreachable(path, error.reason)) from None
        except (TimeoutError, OSError, http.client.HTTPException) as error:
            raise ServerError(self._unreachable(path, error)) from None
        if len(body) > size_max_bytes:
            raise ServerError(
                f"the server's answer to GET {path} is larger than {size_max_bytes} bytes")
        return body

    def _unreachable(self, path: str, reason: object) -> str:
        """URLError wraps what went wrong opening the request: the connection (refused, no
        such host) or, once connected, the answer (cut off, reset, too slow)."""
        if isinstance(reason, TimeoutError):
            return (f"the server at {self.base_url} did not answer GET {path} within "
                    f"{self._timeout_s:g} s")
        if isinstance(reason, http.client.HTTPException | ConnectionResetError
                      | ConnectionAbortedError | BrokenPipeError):
            return f"the server at {self.base_url} broke off its answer to GET {path}: {reason}"
        return f"the server at {self.base_url} cannot be reached: {reason}"

    def _refusal(self, path: str, error: urllib.error.HTTPError) -> Exception:
        detail = _problem_detail(error)
        said = f" ({detail})" if detail else ""
        error.close()
        if error.code in (401, 403):
            return TokenRefused(
                f"the server refuses the token for GET {path} (HTTP {error.code}){said}: "
                f"an auditor's token is needed")
        return ServerRefused(f"the server answered GET {path} with HTTP {error.code}{said}",
                             error.code)


def _problem_detail(error: urllib.error.HTTPError) -> str:
    """The `detail` (else `title`) of an RFC 9457 problem, shortened; empty for anything else."""
    try:
        document = json.loads(error.read(PROOF_SIZE_MAX_BYTES))
    except (ValueError, RecursionError, OSError, AttributeError, http.client.HTTPException):
        return ""
    if not isinstance(document, dict):
        return ""
    said = document.get("detail") or document.get("title")
    return said[:PROBLEM_DETAIL_CHARS_MAX] if isinstance(said, str) else ""
