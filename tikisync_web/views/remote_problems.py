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
    status = getattr(exc, "status", None)
    found = _access(exc, url, name, credentials) or _site(exc, url)
    if found is not None:
        title, fix, links = found
    elif isinstance(exc, CloneError):
        title, links = "This tracker cannot be cloned", []
        fix = "Check the account's rights on the master, or pick another tracker."
        status = None
    else:
        title, links = "The master could not be used", []
        fix = "Try again later, or check the master's log."
    return {"title": title, "message": _sentence(str(exc)), "fix": fix, "links": links,
            "status": status}


def _access(exc, url, name, credentials):
    """(title, fix, links) when the credential or the outbound policy is the trouble."""
    links = [("Open the credentials page", credentials)]
    if isinstance(exc, CredentialUnusable):
        return ("The stored secret cannot be read",
                f"Enter the password or token of {name} again on the credentials page (the "
                "site's secret key has changed since it was saved).", links)
    if isinstance(exc, e.InsecureTransport):
        return ("The secret would travel over plain http",
                f"Use https for {url}, or allow plain http for {name} on the credentials page "
                "if the network is trusted.", links)
    if isinstance(exc, e.OutboundRefused):
        return ("This site is not allowed",
                f"Add a credential for {url} on the credentials page, or list its site under "
                "“Allowed remote sites” there; then come back.",
                [("Add a credential or allow the site", credentials + "#origins")])
    if isinstance(exc, e.BasicIgnored):
        return ("The master ignored the user name and password (HTTP Basic)",
                "A Tiki reads HTTP Basic only when its preference login_http_basic is set to "
                f"“always”: set it on the master (Admin > Log in), or give {name} the method "
                "“session” on the credentials page, which logs in as a browser does.", links)
    if isinstance(exc, e.Unauthorized) and "did not accept this token" in str(exc):
        return ("The master did not accept this token (401 Unauthorized)",
                f"Check the API token of {name} on the credentials page: it may be mistyped, "
                "revoked or expired on the master (Tiki: Admin > Security > API tokens).", links)
    if isinstance(exc, e.Unauthorized):
        return ("The master refused the credential (401 Unauthorized)",
                f"Check the user name and password (HTTP Basic) or the API token (Bearer) of "
                f"{name} on the credentials page. Tiki 24 and later accept only API tokens on "
                "tiki-api.php." if name else
                f"The master wants to know who is asking: add a credential for {url} on the "
                "credentials page.", links)
    if isinstance(exc, e.Forbidden):
        if name:
            return ("This user lacks admin_trackers (403 Forbidden)",
                    f"{RIGHTS} Give the account of {name} those rights on the master, or store "
                    "the secret of an account that has them on the credentials page.", links)
        return ("The master's account may not do this (403 Forbidden)",
                f"{RIGHTS} Anonymous visitors have none: add a credential for {url} on the "
                "credentials page.", links)
    return None


def _site(exc, url):
    """(title, fix, links) when the site itself is the trouble."""
    credentials = url_for("tikisync.credentials")
    if isinstance(exc, (e.ConnectionFailed, e.Timeout)):
        return ("The master could not be reached",
                "Check the URL, and that the site is up and reachable from this server.", [])
    if isinstance(exc, e.TlsError):
        return ("The master's certificate could not be verified",
                "Check the URL; for a certificate of your own authority, set "
                "TIKISYNC_CA_BUNDLE to its CA file.", [])
    if isinstance(exc, e.NotATiki):
        return ("This is not a Tiki site",
                f"No Tiki web service answered at {url}. Check the address: it must be the "
                "Tiki root, the folder that holds tiki-index.php (for example "
                "https://example.org/tiki).", [])
    if isinstance(exc, e.NotJson):
        return ("The master answered with a web page instead of data",
                "Check that the URL is the Tiki root (the folder of tiki-index.php). A login "
                "page means the credential was not accepted: check it on the credentials page.",
                [("Open the credentials page", credentials)])
    if isinstance(exc, e.NotFound):
        return ("Not found on the master (404)",
                "Check that the URL is the Tiki root; the tracker may have been deleted on the "
                "master.", [])
    return None


def _sentence(text):
    text = (text or "").strip()
    return text + ("" if text.endswith((".", "!", "?")) else ".")
