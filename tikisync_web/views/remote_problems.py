"""A remote failure as a person can act on it: what happened, what to fix, where to fix it.

Used by the clone wizard and the drift page; the message of a RemoteError is already free of
secrets (remote/transport scrubs it)."""
from flask import url_for

from ..credentials import CredentialUnusable
from ..remote import errors as e
from ..sync.clone import CloneError

RIGHTS = ("Cloning reads the tracker list and the field definitions, which a Tiki allows only "
          "to tracker administrators (Tiki 9-23: the global admin_trackers permission; Tiki "
          "24 and later: admin rights on the tracker).")


def describe(exc, url, cred):
    """{title, message, fix, links: [(label, href)], status} for `exc` met while reading `url`
    with the credential `cred` (None: anonymous)."""
    name = f"credential “{cred.identifier}”" if cred is not None else None
    credentials = url_for("tikisync.credentials")
    links = [("Open the credentials page", credentials)]
    status = getattr(exc, "status", None)
    if isinstance(exc, CredentialUnusable):
        title = "The stored secret cannot be read"
        fix = (f"Enter the password or token of {name} again on the credentials page (the "
               "site's secret key has changed since it was saved).")
    elif isinstance(exc, e.InsecureTransport):
        title = "The secret would travel over plain http"
        fix = (f"Use https for {url}, or allow plain http for {name} on the credentials page "
               "if the network is trusted.")
    elif isinstance(exc, e.OutboundRefused):
        title = "This site is not allowed"
        fix = (f"Add a credential for {url} on the credentials page, or list its site under "
               "“Allowed remote sites” there; then come back.")
        links = [("Add a credential or allow the site", credentials + "#origins")]
    elif isinstance(exc, e.Unauthorized):
        title = "The master refused the credential (401 Unauthorized)"
        fix = (f"Check the user name and password (HTTP Basic) or the API token (Bearer) of "
               f"{name} on the credentials page. Tiki 24 and later accept only API tokens on "
               "tiki-api.php." if name else
               f"The master wants to know who is asking: add a credential for {url} on the "
               "credentials page.")
    elif isinstance(exc, e.Forbidden):
        title = "The master's account may not do this (403 Forbidden)"
        fix = (f"{RIGHTS} Give the account of {name} those rights on the master, or store the "
               "secret of an account that has them on the credentials page." if name else
               f"{RIGHTS} Anonymous visitors have none: add a credential for {url} on the "
               "credentials page.")
    elif isinstance(exc, (e.ConnectionFailed, e.Timeout)):
        title = "The master could not be reached"
        fix = "Check the URL, and that the site is up and reachable from this server."
        links = []
    elif isinstance(exc, e.TlsError):
        title = "The master's certificate could not be verified"
        fix = ("Check the URL; for a certificate of your own authority, set "
               "TIKISYNC_CA_BUNDLE to its CA file.")
        links = []
    elif isinstance(exc, e.NotJson):
        title = "The master answered with a web page instead of data"
        fix = ("Check that the URL is the Tiki root (the folder of tiki-index.php). A login "
               "page means the credential was not accepted: check it on the credentials page.")
    elif isinstance(exc, e.NotFound):
        title = "Not found on the master (404)"
        fix = ("Check that the URL is the Tiki root; the tracker may have been deleted on the "
               "master.")
        links = []
    elif isinstance(exc, CloneError):
        title = "This tracker cannot be cloned"
        fix = "Check the account's rights on the master, or pick another tracker."
        status = None
    else:
        title = "The master could not be used"
        fix = "Try again later, or check the master's log."
        links = []
    return {"title": title, "message": _sentence(str(exc)), "fix": fix, "links": links,
            "status": status}


def _sentence(text):
    text = (text or "").strip()
    return text + ("" if text.endswith((".", "!", "?")) else ".")
