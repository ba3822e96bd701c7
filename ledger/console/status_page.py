"""What the status pages of the ledger and admin areas share (SPEC §15): the same facts and
problems as `pointsledger status`, the problems said in the reader's language."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ledger.app_context import current_ledger
from ledger.domain.status import Problem
from ledger.service.status import Status, gather_status

# The sentences of ledger.domain.status.SENTENCES, as the console's catalogs translate them.
PROBLEM_TEXT: dict[str, LazyString] = {
    "database_unreachable": _l("The database cannot be reached or read: %(reason)s"),
    "broker_unreachable": _l("The broker cannot be reached: %(reason)s"),
    "queue_missing": _l("The queue %(queue)s is not declared (run `pointsledger amqp setup`)."),
    "dead_letters": _l("%(count)s message(s) wait in pointsledger.dead: the consumer could "
                       "not process them."),
    "gap": _l("Platform %(platform)s has not sent seqs %(seqs)s."),
    "checkpoint_stale": _l("%(log)s has grown to %(size)s but entries have waited "
                           "%(waited_s)s s for a checkpoint (is `pointsledger checkpoints run` "
                           "running?)."),
    "witness_stale": _l("Witness %(witness)s has not cosigned the checkpoint of %(log)s at "
                        "size %(size)s for %(waited_s)s s."),
    "notices_waiting": _l("%(count)s notice(s) for the platforms have waited %(waited_s)s s to "
                          "be relayed (is `pointsledger notices relay` running?)."),
}


# The verifiable logs (SPEC §14) by the names their readers know them.
LOG_NAMES: dict[str, LazyString] = {"ledger": _l("Ledger"), "audit": _l("Audit trail")}


def problem_text(problem: Problem) -> str:
    text = PROBLEM_TEXT.get(problem.kind)
    if text is None:
        return problem.sentence
    values = dict(problem.values)
    if isinstance(values.get("log"), str):
        values["log"] = str(LOG_NAMES.get(str(values["log"]), values["log"]))
    return str(text) % values


def current_status() -> Status:
    ledger = current_ledger()
    return gather_status(ledger.sessions, ledger.settings.amqp_url, ledger.clock())
