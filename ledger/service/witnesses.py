"""The witnesses the ledger asks to cosign its checkpoints (SPEC §14), and what each cosigned.

Registering a witness changes who the ledger answers to, so it is kept in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.contract.cosignature import CosignatureVerifier
from ledger.contract.note import NoteSignature
from ledger.contract.note_keys import NoteError
from ledger.infra.db.models import CheckpointRow, Witness, WitnessCosignature
from ledger.service.audit_trail import append_audit, lock_audit_trail
from ledger.service.errors import Conflict, InvalidInput

WITNESS_NAME_LENGTH_MAX = 64
WITNESS_URL_LENGTH_MAX = 2000


def add_witness(session: Session, actor: str, name: str, url: str, vkey: str,
                now: datetime) -> Witness:
    """Register a witness by a name of ours, its base URL and its note verifier key."""
    if not name or len(name) > WITNESS_NAME_LENGTH_MAX or not name.isprintable() or " " in name:
        raise InvalidInput(f"a witness name is 1 to {WITNESS_NAME_LENGTH_MAX} printable "
                           "characters without spaces", errors={"name": "bad name"})
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname
            or len(url) > WITNESS_URL_LENGTH_MAX or parts.query or parts.fragment
            # A password in the URL would be kept in the audit trail and shown in the console.
            or parts.username is not None or parts.password is not None):
        raise InvalidInput("the witness URL must be an http or https base URL without "
                           "credentials (the ledger posts to <url>/add-checkpoint)",
                           errors={"url": "bad URL"})
    try:
        CosignatureVerifier.from_vkey(vkey)
    except NoteError as error:
        raise InvalidInput(f"the witness key is not a cosignature verifier key: {error}",
                           errors={"vkey": "not a cosignature/v1 vkey"}) from None
    lock_audit_trail(session)
    if session.get(Witness, name) is not None:
        raise Conflict(f"a witness named {name} is already registered", code="witness_exists")
    witness = Witness(name=name, url=url.rstrip("/"), vkey=vkey, added_at=now)
    session.add(witness)
    session.flush()
    append_audit(session, now, actor, "witness.added", f"witness:{name}",
                 f"witness {name} registered", details={"url": witness.url, "vkey": vkey})
    return witness


def list_witnesses(session: Session) -> list[Witness]:
    return list(session.scalars(select(Witness).order_by(Witness.name)))


@dataclass(frozen=True)
class WitnessStanding:
    """A witness and the largest checkpoint of a log it cosigned (None: none yet)."""

    name: str
    url: str
    last_size: int | None
    last_cosigned_at: datetime | None


def witness_standings(session: Session, log: str) -> list[WitnessStanding]:
    last = (select(WitnessCosignature.witness, func.max(CheckpointRow.size).label("size"),
                   func.max(WitnessCosignature.cosigned_at).label("at"))
            .join(CheckpointRow, CheckpointRow.id == WitnessCosignature.checkpoint_id)
            .where(CheckpointRow.log == log).group_by(WitnessCosignature.witness).subquery())
    rows = session.execute(select(Witness.name, Witness.url, last.c.size, last.c.at)
                           .outerjoin(last, last.c.witness == Witness.name)
                           .order_by(Witness.name))
    return [WitnessStanding(row[0], row[1], row[2], row[3]) for row in rows]


def record_cosignature(session: Session, checkpoint: CheckpointRow, witness: Witness,
                       signature: NoteSignature, cosigned_at: datetime, now: datetime) -> None:
    """Keep a cosignature already verified against the witness's key (its line, without the
    newline)."""
    session.add(WitnessCosignature(checkpoint_id=checkpoint.id, witness=witness.name,
                                   signature_line=signature.line().rstrip("\n"),
                                   cosigned_at=cosigned_at,
                                   received_at=now))
    session.flush()
