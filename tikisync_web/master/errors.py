"""Tiki's error answers: `{"code", "errortitle", "message"}` with the matching HTTP status.

Every failure of the master endpoints ends here, whatever raised it, so a client (Tiki's or
ours) never receives an HTML page or a bare 500 for something it sent.
"""
import json

import peewee as pw
from flask import Response, current_app
from werkzeug.exceptions import HTTPException


class MasterError(Exception):
    """A failure answered as Tiki answers it; `extra` adds keys to the JSON body."""

    def __init__(self, code, message, headers=None, **extra):
        super().__init__(message)
        self.code, self.message = code, message
        self.headers = headers or {}
        self.extra = extra


def bad_request(message, **extra):
    return MasterError(400, message, **extra)


def unauthorized(message, scheme="Basic"):
    return MasterError(401, message, {"WWW-Authenticate": f'{scheme} realm="tikisync"'})


def denied(message):
    return MasterError(403, message)


def not_found(message="Not found"):
    return MasterError(404, message)


def not_allowed(method, allowed):
    allowed = sorted(set(allowed))
    header = sorted(set(allowed) | ({"HEAD"} if "GET" in allowed else set()))
    return MasterError(405, f"Method {method[:20]} is not allowed here; use {' or '.join(allowed)}",
                       {"Allow": ", ".join(header)})


def json_response(payload, status=200, headers=None):
    # Compact, ASCII-only, like PHP's json_encode; built once per answer.
    body = json.dumps(payload, separators=(",", ":"))
    return Response(body, status=status, headers=headers, mimetype="application/json")


def error_response(code, message, headers=None, **extra):
    body = {"code": code, "errortitle": message, "message": message}
    if code == 404:
        # Tiki's display_error appends the code and a page key for "not found" only.
        body["message"] = f"{message} (404)"
        body["page"] = None
    body.update(extra)
    return json_response(body, code, headers)


def register(bp):
    """Error handlers scoped to the master blueprint (the host app is left alone)."""

    @bp.errorhandler(MasterError)
    def _master_error(error):
        return error_response(error.code, error.message, error.headers, **error.extra)

    @bp.errorhandler(HTTPException)
    def _http_error(error):
        # werkzeug's own refusals: body too large (413), undecodable body (400), ...
        message = error.description or error.name
        headers = {k: v for k, v in error.get_headers() if k.lower() in ("allow",)}
        return error_response(error.code or 500, message, headers)

    @bp.errorhandler(pw.IntegrityError)
    @bp.errorhandler(pw.DataError)
    def _refused_by_database(error):
        current_app.logger.warning("master: database refused a write: %s", error)
        return error_response(400, "The database refused these values")

    @bp.errorhandler(pw.OperationalError)
    @bp.errorhandler(pw.InterfaceError)
    def _database_unavailable(error):
        current_app.logger.error("master: database unavailable: %s", error)
        return error_response(503, "The database is busy or unavailable; try again")

    @bp.errorhandler(Exception)
    def _unexpected(error):
        current_app.logger.exception("master: unexpected error")
        return error_response(500, "Internal error")
