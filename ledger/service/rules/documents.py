"""How rule-set versions are shown: to the API, the CLI and the audit (SPEC §8)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger.domain.entry import rfc3339_utc
from ledger.domain.ruleset_diff import diff
from ledger.service.errors import NotFound
from ledger.service.rules.versions import VersionState, load_versions


def version_summary(state: VersionState) -> dict[str, Any]:
    row = state.row
    effective_from = state.effective_from
    return {
        "version": row.version,
        "name": row.name,
        "status": state.status.value,
        "active": state.active,
        "author": row.author,
        "created_at": rfc3339_utc(row.created_at),
        "sha256": row.document_sha256,
        "replaces": row.replaces,
        "superseded_by": state.superseded_by,
        "effective_from": None if effective_from is None else rfc3339_utc(effective_from),
    }


def version_document(state: VersionState) -> dict[str, Any]:
    """The version with its document and every step it went through."""
    return {
        **version_summary(state),
        "comment": state.row.comment,
        "document": json.loads(state.row.document),
        "history": [
            {"action": "drafted", "actor": state.row.author,
             "at": rfc3339_utc(state.row.created_at), "comment": state.row.comment},
            *({"action": step.action, "actor": step.actor, "at": rfc3339_utc(step.at),
               "comment": step.comment,
               **({"effective_from": rfc3339_utc(step.effective_from)}
                  if step.effective_from is not None else {}),
               **({"simulation_id": step.simulation_id}
                  if step.simulation_id is not None else {})}
              for step in state.steps),
        ],
    }


def show_version(session: Session, version: int, now: datetime) -> dict[str, Any]:
    return version_document(load_versions(session, now).get(version))


def show_active(session: Session, now: datetime) -> dict[str, Any]:
    active = load_versions(session, now).active
    if active is None:
        raise NotFound("no rule set is active", code="no_active_ruleset")
    return version_document(active)


def list_versions(session: Session, now: datetime, after: int, limit: int
                  ) -> tuple[list[dict[str, Any]], int | None]:
    """A page of summaries in version order, and the cursor of the next page (or None)."""
    states = [state for version, state in sorted(load_versions(session, now).by_version.items())
              if version > after]
    shown = states[:limit]
    following = shown[-1].version if len(states) > limit else None
    return [version_summary(state) for state in shown], following


def diff_versions(session: Session, version: int, against: int, now: datetime
                  ) -> dict[str, Any]:
    """What changes from `against` to `version`."""
    versions = load_versions(session, now)
    before = json.loads(versions.get(against).row.document)
    after = json.loads(versions.get(version).row.document)
    changes = diff(before, after)
    return {"version": version, "against": against,
            "changes": [{"path": change.path, "before": change.before, "after": change.after,
                         "line": change.line()} for change in changes]}
