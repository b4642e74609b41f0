"""The master blueprint and its request hooks (scoped to it, STYLE rule 7).

No CSRF check here: these endpoints never read the session cookie, so a forged cross-site
request carries no identity. Each request authenticates itself (Basic or Bearer).
"""
from flask import Blueprint, request

from ..db import database
from . import errors

# werkzeug limits multipart fields but not url-encoded bodies, which is how Tiki posts. An item
# of many long fields, percent-encoded, stays well below this.
MAX_BODY = 32 * 1024 * 1024

bp = Blueprint("tikisync_master", __name__)
errors.register(bp)


@bp.before_request
def _open():
    if request.max_content_length is None:  # the host's own limit, when set, applies
        request.max_content_length = MAX_BODY
    database.connect(reuse_if_open=True)


@bp.teardown_request
def _close(exc):
    if not database.is_closed():
        database.close()


@bp.after_request
def _headers(response):
    # Answers depend on who asks: never cache them in a shared proxy.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
