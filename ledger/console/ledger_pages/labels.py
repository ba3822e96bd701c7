"""What the ledger's codes say in the reader's language: kinds of entry, categories, the
reasons an event was refused, and what is wrong where a chain breaks.

The codes themselves stay on the page too (in a monospace font): an auditor matches them with
the API and the logs.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.contract.categories import Category, EntryKind
from ledger.domain.outcomes import Reason
from ledger.service.chain_audit import ChainFault

ENTRY_KINDS: Mapping[str, LazyString] = {
    EntryKind.AWARDED: _l("Awarded"),
    EntryKind.DEDUCTED: _l("Deducted"),
    EntryKind.REVOKED: _l("Award withdrawn"),
    EntryKind.REDEEMED: _l("Redeemed at a counter"),
    EntryKind.REDEMPTION_REVERSED: _l("Redemption reversed"),
}

CATEGORIES: Mapping[str, LazyString] = {
    Category.GARBAGE_SORTING: _l("Garbage sorting"),
    Category.ENVIRONMENT_HYGIENE: _l("Environment and hygiene"),
    Category.VOLUNTEERING: _l("Volunteering"),
    Category.SAFETY_PATROL: _l("Safety patrol"),
    Category.SAFETY_EDUCATION: _l("Safety education"),
    Category.KNOWLEDGE_QUIZ: _l("Knowledge quiz"),
    Category.CIVIC_PARTICIPATION: _l("Taking part in village affairs"),
    Category.MUTUAL_AID: _l("Helping neighbours"),
    Category.HONORS: _l("Honours"),
    Category.OTHER: _l("Other"),
}

REASONS: Mapping[str, LazyString] = {
    Reason.MALFORMED_JSON: _l("Not valid JSON"),
    Reason.SCHEMA_INVALID: _l("Fields do not follow the contract"),
    Reason.TOO_LARGE: _l("Too large"),
    Reason.UNKNOWN_PLATFORM: _l("Unknown platform"),
    Reason.BAD_SIGNATURE: _l("Signature does not verify"),
    Reason.KEY_REVOKED: _l("Signing key revoked"),
    Reason.TIMESTAMP_SKEW: _l("Signed too far from now"),
    Reason.ID_CONFLICT: _l("Event ID already used for another event"),
    Reason.SEQ_CONFLICT: _l("Sequence number already used"),
    Reason.UNKNOWN_REVOCATION_TARGET: _l("Withdraws an award that is not recorded"),
    Reason.ALREADY_REVOKED: _l("Award already withdrawn"),
    Reason.REVOCATION_MISMATCH: _l("Withdrawal does not match the award"),
}


def entry_kind(code: str) -> str:
    return str(ENTRY_KINDS.get(code, code))


def category(code: str | None) -> str:
    return "" if code is None else str(CATEGORIES.get(code, code))


def reason(code: str) -> str:
    return str(REASONS.get(code, code))


def ledger_fault(fault: str | None, seq: int) -> str:
    """Where and how the ledger's hash chain breaks, in a sentence."""
    if fault == ChainFault.MISSING:
        return str(_("Entry %(seq)s is missing: a row was deleted.", seq=seq))
    if fault == ChainFault.UNREADABLE:
        return str(_("Entry %(seq)s cannot be read: it was changed into something that is not "
                     "an entry.", seq=seq))
    if fault == ChainFault.TREE:
        return str(_("The entries are intact, but the Merkle tree's stored hashes differ from "
                     "them from entry %(seq)s on: the tree was changed, and proofs from it "
                     "would not hold.", seq=seq))
    return str(_("Entry %(seq)s does not match its hash: it was changed after it was "
                 "written.", seq=seq))


def audit_fault(fault: str | None, seq: int) -> str:
    """Where and how the audit trail's hash chain breaks, in a sentence."""
    if fault == ChainFault.MISSING:
        return str(_("Audit event %(seq)s is missing: a row was deleted.", seq=seq))
    if fault == ChainFault.TREE:
        return str(_("The audit events are intact, but the audit log's Merkle tree differs "
                     "from them: the tree was changed, and proofs from it would not hold."))
    return str(_("Audit event %(seq)s does not match its hash: it was changed after it was "
                 "written.", seq=seq))


TEMPLATE_HELPERS = {"entry_kind": entry_kind, "category_name": category,
                    "reason_name": reason}
