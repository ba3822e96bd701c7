"""gunicorn's logger, without resident ID numbers nor tokens (SPEC §4.4, §7).

gunicorn writes each request line to its access log as it came: a teller who types an ID
number where the pseudonym goes (`GET /api/v1/residents/3301…`), or a client that sends its
token as `?access_token=plt_…`, would leave it in the log.
Run gunicorn with `--logger-class ledger.api.gunicorn_logging.RedactingLogger`.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from ledger.contract.redaction import RedactingFilter


class RedactingLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no types
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(RedactingFilter())
