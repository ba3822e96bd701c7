"""The logs as C2SP tlog-tiles (SPEC §14), outside /api/v1 so that a standard transparency-log
client pointed at `<base>/tlog` (the ledger) or `<base>/tlog/audit` (the audit trail) mirrors
and checks them: the checkpoint, the hash tiles (public) and the entry bundles (an auditor's
or an admin's token: entries name residents).

Which tiles exist is `ledger.service.log_tiles`'s to say: a full tile once the tree holds it,
a partial one only up to the latest checkpoint's size. A tile never changes once served, so
it may be cached for good; the checkpoint only for seconds. A path that is not one of the
spec's canonical spellings is a 404 problem, as is a tile the log does not serve.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from ledger.api.access import public, roles
from ledger.api.blueprint import Blueprint
from ledger.api.problems import ProblemError
from ledger.api.verifiable_log import SIGNED_NOTE_DOCUMENTATION, checkpoint_response
from ledger.app_context import current_ledger
from ledger.contract.tiles import EntryBundle, Tile, TilePathInvalid, parse_tile_path
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG
from ledger.service import log_tiles

TILE_CACHE_CONTROL = "public, max-age=31536000, immutable"
OCTET_STREAM = "application/octet-stream"
_INDEX_PATTERN = r"(x[0-9]{3}/)*[0-9]{3}"
_WIDTH_PATTERN = r"(\.p/[1-9][0-9]{0,2})?"
BINARY_DOCUMENTATION: dict[str, Any] = {"responses": {"200": {
    "description": "the tile's bytes", "content": {OCTET_STREAM: {
        "schema": {"type": "string", "format": "binary"}}}}}}
TILE_PARAMETER = {
    "in": "path", "name": "tile", "required": True,
    "description": "`<L>/<N>[.p/<W>]`: level 0-63, index in 3-digit groups (`x001/x234/067`), "
                   "width 1-255 of a partial tile",
    "schema": {"type": "string", "pattern": f"^(0|[1-9][0-9]?)/{_INDEX_PATTERN}{_WIDTH_PATTERN}$"},
}
BUNDLE_PARAMETER = {
    "in": "path", "name": "bundle", "required": True,
    "description": "`<N>[.p/<W>]`: index in 3-digit groups (`x001/x234/067`), width 1-255 of "
                   "a partial bundle",
    "schema": {"type": "string", "pattern": f"^{_INDEX_PATTERN}{_WIDTH_PATTERN}$"},
}


def tlog_blueprint(log: str, name: str, path: str, description: str) -> Blueprint:
    """The tlog-tiles routes of one log under `path`."""
    blp = Blueprint(name, __name__, description=description)

    @blp.route(f"{path}/checkpoint")
    @public
    @blp.response(200)
    @blp.doc(**SIGNED_NOTE_DOCUMENTATION)
    @blp.alt_response(404, response="NOT_FOUND")
    def checkpoint() -> Response:
        """The latest checkpoint, cosignatures included"""
        return checkpoint_response(log)

    @blp.route(f"{path}/tile/<path:tile>", parameters=[TILE_PARAMETER])
    @public
    @blp.response(200)
    @blp.doc(**BINARY_DOCUMENTATION)
    @blp.alt_response(404, response="NOT_FOUND")
    def hash_tile(tile: str) -> Response:
        """A hash tile: a full one once the tree holds it, a partial one up to the latest
        checkpoint's size"""
        parsed = _parse(f"tile/{tile}")
        if not isinstance(parsed, Tile):
            raise _bad_path()
        with current_ledger().sessions() as session:
            data = log_tiles.hash_tile(session, log, parsed)
        return Response(data, mimetype=OCTET_STREAM,
                        headers={"Cache-Control": TILE_CACHE_CONTROL})

    @blp.route(f"{path}/tile/entries/<path:bundle>", parameters=[BUNDLE_PARAMETER])
    @roles("auditor", "admin")
    @blp.response(200)
    @blp.doc(**BINARY_DOCUMENTATION)
    @blp.alt_response(404, response="NOT_FOUND")
    def entry_bundle(bundle: str) -> Response:
        """An entry bundle: each entry's JCS bytes after its length (2 bytes, big-endian); a
        partial one up to the latest checkpoint's size"""
        parsed = _parse(f"tile/entries/{bundle}")
        if not isinstance(parsed, EntryBundle):
            raise _bad_path()
        with current_ledger().sessions() as session:
            data = log_tiles.entry_bundle(session, log, parsed)
        return Response(data, mimetype=OCTET_STREAM)

    return blp


def _parse(path: str) -> Tile | EntryBundle:
    try:
        return parse_tile_path(path)
    except (TilePathInvalid, ValueError):
        raise _bad_path() from None


def _bad_path() -> ProblemError:
    # The path is not quoted back: problems never echo what a caller sent.
    return ProblemError(404, "not_found", "not a tile path: tile/<L>/<N>[.p/<W>] or "
                        "tile/entries/<N>[.p/<W>], N in 3-digit groups (x001/x234/067), "
                        "spelt without leading zeros")


ledger_tiles_blp = tlog_blueprint(
    LEDGER_LOG, "tlog", "/tlog",
    "The ledger's log as C2SP tlog-tiles: checkpoint, hash tiles, entry bundles")
audit_tiles_blp = tlog_blueprint(
    AUDIT_LOG, "tlog_audit", "/tlog/audit",
    "The audit trail's log as C2SP tlog-tiles, laid out as the ledger's")
