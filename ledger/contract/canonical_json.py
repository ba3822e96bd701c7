"""RFC 8785 (JCS) canonical JSON: the bytes a ledger entry's or an audit event's leaf hash is
taken over (SPEC §6, §14), so that the ledger and an auditor outside the bank hash alike."""

from __future__ import annotations

import json
from typing import Any

import rfc8785

# I-JSON / RFC 8785: integers beyond this cannot be represented exactly.
JSON_SAFE_INTEGER_MAX = 2**53 - 1
# Made once: `json.dumps` with options builds an encoder per call, a fifth of the time taken.
_FLAT_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(document: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of a document.

    For a flat object of ASCII keys, strings and safe integers (every entry document), the
    standard library's sorted, compact, non-ASCII-escaping output is byte for byte JCS: the same
    escapes (lower-case \\u00xx for other control characters), and ASCII keys sort the same by
    UTF-16 unit as by code point. It is about seven times faster than the general serializer,
    which still handles anything else.
    """
    if _is_flat(document):
        return _FLAT_ENCODER.encode(document).encode("utf-8")
    return bytes(rfc8785.dumps(document))


def _is_flat(document: dict[str, Any]) -> bool:
    """ASCII names; values that are strings or safe integers (a bool is neither). One loop
    with exact type tests: an auditor runs it over every entry of the ledger."""
    for key, value in document.items():
        if type(value) is int:
            if not -JSON_SAFE_INTEGER_MAX <= value <= JSON_SAFE_INTEGER_MAX:
                return False
        elif not isinstance(value, str):
            return False
        if type(key) is not str or not key.isascii():
            return False
    return True
