"""The canonical category taxonomy (SPEC §4.2) and the event types (SPEC §4.1, §6)."""

from enum import StrEnum


class Category(StrEnum):
    GARBAGE_SORTING = "garbage_sorting"
    ENVIRONMENT_HYGIENE = "environment_hygiene"
    VOLUNTEERING = "volunteering"
    SAFETY_PATROL = "safety_patrol"
    SAFETY_EDUCATION = "safety_education"
    KNOWLEDGE_QUIZ = "knowledge_quiz"
    CIVIC_PARTICIPATION = "civic_participation"
    MUTUAL_AID = "mutual_aid"
    HONORS = "honors"
    OTHER = "other"


class EventType(StrEnum):
    """Types a platform may sign; redemptions are the ledger's own entries, never a platform's."""

    AWARDED = "points.awarded"
    DEDUCTED = "points.deducted"
    REVOKED = "points.revoked"


class EntryKind(StrEnum):
    """Every kind of ledger entry, with the sign of its points delta in `delta_sign`."""

    AWARDED = "points.awarded"
    DEDUCTED = "points.deducted"
    REVOKED = "points.revoked"
    REDEEMED = "points.redeemed"
    REDEMPTION_REVERSED = "points.redemption_reversed"

    @property
    def delta_sign(self) -> int:
        return 1 if self in _ADDING_KINDS else -1


# Looked up per appended entry: a set built once, not a tuple of members built per call.
_ADDING_KINDS = frozenset({EntryKind.AWARDED, EntryKind.REDEMPTION_REVERSED})
