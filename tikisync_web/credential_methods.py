"""How a credential may sign in to a master: the methods and protocols offered (with the
labels the credentials page and the CLI show) and the checks that go with a method (its
secret, its user name, the session method's login page, the protocols it can speak).

Each check adds what is wrong to `errors` (field name -> text), as credentials._clean
gathers them.
"""
from .remote import urls

METHODS = {
    "basic": "HTTP Basic (user name and password)",
    "bearer": "Bearer API token (Tiki 24+)",
    "header": "Authorization header (raw value)",
    "session": "Session login (Tiki 19-23 writes)",
}
GENERATIONS = {"auto": "Detect", "A": "Tiki 8-23 (tiki-ajax_services.php)",
               "B": "Tiki 24+ (tiki-api.php)"}
_SECRET_KIND = {"basic": "password", "session": "password", "bearer": "token",
                "header": "header"}
_ASK_SECRET = {"bearer": "enter the API token", "header": "enter the header value"}


def check_method(method, generation, errors):
    if method not in METHODS:
        errors["method"] = f"use one of {', '.join(METHODS)}"
    if generation not in GENERATIONS:
        errors["generation"] = "use auto, A or B"
    elif generation == "B" and method in ("basic", "session"):
        errors["generation"] = ("tiki-api.php (Tiki 24+) only accepts Bearer tokens: use the "
                                "bearer method, or generation A")


def check_username(method, username, errors):
    if method in ("basic", "session") and not username:
        errors["username"] = "this method needs a user name"


def check_secret(method, secret, url, existing, errors):
    has_secret = bool(secret) or bool(existing is not None and existing.secret)
    if method in METHODS and not has_secret:
        errors["secret"] = _ASK_SECRET.get(method, "enter the password")
    elif existing is not None and not secret and url and method in METHODS:
        # A kept secret must not change meaning (a password used as a token) nor follow the
        # credential to another site: secrets are write-only, even for admins.
        if _SECRET_KIND[method] != _SECRET_KIND.get(existing.method):
            errors["secret"] = _ASK_SECRET.get(method, "enter the password") + \
                " (the method changed)"
        elif urls.locate(url).origin != urls.locate(existing.url).origin:
            errors["secret"] = ("the site changed: enter the secret again (a stored secret "
                                "is never sent to a new site)")
    if method == "header" and secret and ("\n" in secret or "\r" in secret):
        errors["secret"] = "a header value is one line"


def login_url_of(method, values):
    """The session method's login page as entered ("" for the other methods)."""
    return (values.get("login_url") or "").strip() if method == "session" else ""


def check_login_url(login_url, url, errors):
    if login_url and url and "url" not in errors:
        try:
            if not urls.covers(url, login_url):
                errors["login_url"] = "the login page must be inside the credential's URL"
        except urls.UrlError as exc:
            errors["login_url"] = str(exc)
