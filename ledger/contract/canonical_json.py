"""RFC 8785 (JCS) canonical JSON: the bytes a ledger entry's or an audit event's leaf hash is
taken over (SPEC §6, §14), so that the ledger and an auditor outside the bank hash alike."""

from __future__ import annotations

import json
from typing import Any

import rfc8785

# I-JSON / RFC 8785: integers beyond this cannot be represented exactly.
JSON_SAFE_INTEGER_MAX = 2**53 - 1


def canonical_json(document: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of a document.

    For a flat object of ASCII keys, strings and safe integers (every entry document), the
    standard library's sorted, compact, non-ASCII-escaping output is byte for byte JCS: the same
    escapes (lower-case \\u00xx for other control characters), and ASCII keys sort the same by
    UTF-16 unit as by code point. It is about seven times faster than the general serializer,
    which still handles anything else.
    """
    if all(_plain_member(key, value) for key, value in document.items()):
        return json.dumps(document, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")
    return bytes(rfc8785.dumps(document))


def _plain_member(key: object, value: object) -> bool:
    if not isinstance(key, str) or not key.isascii():
        return False
    if isinstance(value, str):
        return True
    return (isinstance(value, int) and not isinstance(value, bool)
            and -JSON_SAFE_INTEGER_MAX <= value <= JSON_SAFE_INTEGER_MAX)
