"""How an audit ends when it does not pass: each carries the one sentence the command prints."""

from __future__ import annotations


class AuditFailed(Exception):
    """The log does not hold to what it showed before, or to its own checkpoint (exit 1)."""


class ServerError(Exception):
    """The server cannot be reached, or answers what the protocol does not allow (exit 1):
    nothing could be checked, so nothing is kept."""


class ServerRefused(ServerError):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class UsageError(Exception):
    """The command was given something unusable: a key, a URL, a quorum, a token (exit 2)."""


class StateNotKept(Exception):
    """The audit passed but its checkpoint could not be written to the state directory (exit 1):
    the next run still compares against the one kept before."""
