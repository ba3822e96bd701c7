"""Console passwords (SPEC §12): the policy a new password must meet, and its argon2id hash.

The list of common passwords is zxcvbn's (the 30 000 most frequent passwords of public leaks,
lower-cased), a maintained package rather than a file of our own that nobody would update.
Its whole list is checked, although the length rule alone already refuses most of it.

Hashing uses argon2-cffi's defaults (RFC 9106's second recommended profile: 64 MiB, three
passes), which it raises as hardware improves; `needs_rehash` lets a sign-in upgrade an old hash.
"""

from __future__ import annotations

import functools
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

PASSWORD_LENGTH_MIN = 12
# Long passphrases are welcome; the bound only keeps a hostile request from hashing megabytes.
PASSWORD_LENGTH_MAX = 1024


class PasswordRule(StrEnum):
    """The rule of the policy a password breaks, for a caller that explains it in its own
    words (the console, in the user's language)."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    CONTAINS_USERNAME = "contains_username"
    COMMON = "common"


_RULE_MESSAGES = {
    PasswordRule.TOO_SHORT: f"a password has at least {PASSWORD_LENGTH_MIN} characters",
    PasswordRule.TOO_LONG: f"a password has at most {PASSWORD_LENGTH_MAX} characters",
    PasswordRule.CONTAINS_USERNAME: "a password must not contain the username",
    PasswordRule.COMMON: "this password is one of the most common ones; choose another",
}


def broken_rule(username: str, password: str) -> PasswordRule | None:
    """The rule `password` breaks as `username`'s password, or None when it may be theirs."""
    if len(password) < PASSWORD_LENGTH_MIN:
        return PasswordRule.TOO_SHORT
    if len(password) > PASSWORD_LENGTH_MAX:
        return PasswordRule.TOO_LONG
    folded = password.casefold()
    if username.casefold() in folded:
        return PasswordRule.CONTAINS_USERNAME
    if folded in _common_passwords():
        return PasswordRule.COMMON
    return None


def password_problem(username: str, password: str) -> str | None:
    """Why `password` may not be `username`'s password, or None when it may."""
    rule = broken_rule(username, password)
    return None if rule is None else rule_message(rule)


def rule_message(rule: PasswordRule) -> str:
    return _RULE_MESSAGES[rule]


def hash_password(password: str) -> str:
    """The argon2id PHC string (parameters, salt and hash) to store."""
    return _hasher().hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def spend_a_verification(password: str) -> None:
    """As long as checking a real password, so that an unknown username answers no faster."""
    password_matches(_dummy_hash(), password)


@functools.cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("no user has this password; it only takes time to check")


@functools.cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])
