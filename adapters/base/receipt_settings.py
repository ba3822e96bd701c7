"""Whether, and how, an adapter collects the ledger's receipts (adapters.base.receipt_collector).

Three settings, all given or none: the ledger's API (POINTSLEDGER_LEDGER_API_URL), a file
holding the token of a platform_operator user of the adapter's platform
(POINTSLEDGER_LEDGER_API_TOKEN_FILE) and the ledger's log verifier key, the one
`pointsledger keys ledger --vkey` prints (POINTSLEDGER_LEDGER_LOG_VKEY). None of them: receipts
are off. Some of them, or a bad one: a sentence naming it, before the adapter starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adapters.base.ledger_api import LedgerApi
from ledger.contract.note_keys import NoteError, Verifier
from ledger.runtime.secret_file import SecretFileUnreadable, read_secret_file

API_URL_VARIABLE = "POINTSLEDGER_LEDGER_API_URL"
TOKEN_FILE_VARIABLE = "POINTSLEDGER_LEDGER_API_TOKEN_FILE"  # noqa: S105 (a name, not a token)
LOG_VKEY_VARIABLE = "POINTSLEDGER_LEDGER_LOG_VKEY"


@dataclass(frozen=True)
class ReceiptSettings:
    api: LedgerApi = field(repr=False)
    log_key: Verifier


def receipt_settings(api_url: str | None, token_file: Path | None,
                     log_vkey: str | None) -> ReceiptSettings | None:
    """The settings, or None when none is given; ValueError with one sentence otherwise."""
    given = {API_URL_VARIABLE: api_url, TOKEN_FILE_VARIABLE: token_file,
             LOG_VKEY_VARIABLE: log_vkey}
    missing = [name for name, value in given.items() if not value]
    if len(missing) == len(given):
        return None
    if missing:
        raise ValueError(f"receipts need {API_URL_VARIABLE}, {TOKEN_FILE_VARIABLE} and "
                         f"{LOG_VKEY_VARIABLE} together: {' and '.join(missing)} is not set")
    assert api_url and token_file and log_vkey
    try:
        log_key = Verifier.from_vkey(log_vkey.strip())
    except NoteError:
        raise ValueError(f"{LOG_VKEY_VARIABLE} must be the ledger's log verifier key "
                         "<origin>+<key id>+<key> (`pointsledger keys ledger --vkey` prints it)"
                         ) from None
    try:
        token = read_secret_file(token_file, "the ledger API token")
    except SecretFileUnreadable as error:
        raise ValueError(f"{TOKEN_FILE_VARIABLE}: {error}") from None
    try:
        api = LedgerApi(api_url.strip(), token)
    except ValueError as error:
        raise ValueError(f"{API_URL_VARIABLE}: {error}") from None
    return ReceiptSettings(api, log_key)
