"""A refusal of the rules service, told in the officer's language with its figures.

The service decides (four eyes, a simulation first, one approval at a time); the page only says
what was decided. The figures come from the versions as the page read them after the refusal.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ledger.console.rules.labels import status_name
from ledger.service.errors import Conflict, Forbidden, InvalidInput, ServiceError
from ledger.service.rules.versions import Versions

HTTP_STATUS = {Forbidden: 403, Conflict: 409, InvalidInput: 422}


def http_status(error: ServiceError) -> int:
    return next((status for kind, status in HTTP_STATUS.items() if isinstance(error, kind)),
                400)


def refusal_message(error: ServiceError, version: int, versions: Versions) -> str:
    state = versions.by_version.get(version)
    status = "" if state is None else status_name(state.status.value)
    active = versions.active
    if error.code == "four_eyes":
        return str(_("You wrote version %(version)s: another risk officer must approve it "
                 "(four eyes).", version=version))
    if error.code == "not_the_author":
        author = "" if state is None else state.row.author
        return str(_("Version %(version)s is %(author)s's draft: only its author can do this.",
                 version=version, author=author))
    if error.code == "simulation_required":
        if active is None:
            return str(_("Approving version %(version)s needs a simulation of it first (no "
                     "version is active): run one.", version=version))
        return str(_("Approving version %(version)s needs a simulation of it against the active "
                 "version %(active)s: run one first.", version=version, active=active.version))
    if error.code == "approval_scheduled":
        scheduled = versions.scheduled()
        return str(_("Version %(scheduled)s is approved and waits to take effect: approve another "
                 "version after it has.",
                 scheduled="?" if scheduled is None else scheduled.version))
    if error.code in ("not_draft", "not_submitted", "not_pending", "not_a_draft"):
        return str(_("Version %(version)s is now %(status)s: this step is no longer possible.",
                 version=version, status=status))
    # A refusal this page does not know: the service's own sentence, rather than nothing.
    return str(_("Refused: %(reason)s", reason=str(error)))
