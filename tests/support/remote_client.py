"""Our TikiClient pointed at a fake master, and the API requests that master received."""
from tests.support.fake_master import PASSWORD, TOKEN, USER
from tikisync_web.remote.auth import BasicAuth, BearerAuth
from tikisync_web.remote.client import TikiClient


def make_client(master, generation, **kw):
    """Gen A with HTTP Basic, Gen B with a Bearer token, as the real masters want them."""
    if generation == "A":
        auth = BasicAuth(master.url, USER, PASSWORD, allow_http=True, identifier="fake")
    else:
        auth = BearerAuth(master.url, TOKEN, allow_http=True, identifier="fake")
    kw.setdefault("backoff", 0)
    kw.setdefault("timeout", 5)
    return TikiClient(master.url, generation=generation, auth=auth, **kw)


def api_requests(master):
    """The requests to the API endpoints (no login pages, no redirects to them)."""
    return [r for r in master.requests if r.path.endswith(("ajax_services.php", "tiki-api.php"))]
