"""Credentials for remote masters (Tiki's "Content Authentication"), the outbound policy, and
`client_for(url)`: the one way the rest of the app gets a TikiClient.

Views, the CLI, jobs and tests all come through here. Configuration is passed in as a
RemoteConfig (RemoteConfig.from_app() reads a Flask app's config when there is one), so sync
code can run from a job thread or a test without a request.

Secrets are encrypted at rest (crypto.py) and leave this module only inside an auth object
handed to the client; `public()` is what may be shown or printed.
"""
import re
import time
from dataclasses import dataclass

import peewee as pw

from . import audit, crypto
from . import credential_methods as methods
from .db import write_transaction
from .models import AllowedOrigin, Credential, now
from .remote import auth as rauth
from .remote import urls
from .remote.client import TikiClient
from .remote.errors import (
    ConnectionFailed,
    NotATiki,
    OutboundRefused,
    RemoteError,
    Timeout,
    TlsError,
)

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")


class CredentialInvalid(ValueError):
    """Input that cannot be saved; `errors` maps a field name to what is wrong with it."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))


class CredentialUnusable(RemoteError):
    """A stored credential that cannot be used (its secret cannot be decrypted)."""


@dataclass
class RemoteConfig:
    """What building a client needs from the configuration."""

    key: str
    timeout: float = 30
    ca_bundle: str = None
    retries: int = 3
    backoff: float = 0.5

    @classmethod
    def from_app(cls, app=None, **overrides):
        if app is None:
            from flask import current_app

            app = current_app
        config = app.config
        values = {"key": crypto.key_material(config),
                  "timeout": float(config.get("TIKISYNC_HTTP_TIMEOUT") or 30),
                  "backoff": float(config.get("TIKISYNC_HTTP_BACKOFF", 0.5) or 0),
                  "ca_bundle": config.get("TIKISYNC_CA_BUNDLE") or None}
        if config.get("TIKISYNC_HTTP_BACKOFF") not in (None, ""):
            values["backoff"] = float(config["TIKISYNC_HTTP_BACKOFF"])
        values.update(overrides)
        return cls(**values)


def _config(config):
    return config if config is not None else RemoteConfig.from_app()


# --- reading -------------------------------------------------------------------------------

def all_credentials():
    return list(Credential.select().order_by(Credential.identifier))


def get(identifier):
    return Credential.get_or_none(Credential.identifier == identifier)


def public(cred):
    """A credential as it may be shown, printed or logged: never the secret."""
    return {"identifier": cred.identifier, "url": cred.url, "method": cred.method,
            "username": cred.username or "", "login_url": cred.login_url or "",
            "allow_http": bool(cred.allow_http), "generation": cred.generation or "auto",
            "has_secret": bool(cred.secret), "created": cred.created, "updated": cred.updated}


def match(url, credentials=None):
    """The credential for `url`: same scheme, host and port, path prefix on a segment
    boundary, longest prefix wins. None when none applies (or the URL is unusable)."""
    try:
        target = urls.locate(url)
    except urls.UrlError:
        return None
    best = None
    for cred in (credentials if credentials is not None else all_credentials()):
        try:
            scope = urls.locate(cred.url)
        except urls.UrlError:
            continue
        if urls.covers(scope, target) and (best is None or len(scope.path) > best[0]):
            best = (len(scope.path), cred)
    return best[1] if best else None


# --- saving --------------------------------------------------------------------------------

def _others(existing):
    """Credentials other than the one being edited."""
    return Credential.id != (existing.id if existing else 0)


def _check_identifier(identifier, existing, errors):
    if not IDENTIFIER.match(identifier):
        errors["identifier"] = ("1 to 50 letters, digits, dots, dashes or underscores, "
                                "starting with a letter or digit")
    elif Credential.select().where(Credential.identifier == identifier,
                                   _others(existing)).exists():
        errors["identifier"] = f"a credential named {identifier!r} already exists"


def _check_url(raw, allow_http, existing, errors):
    """The normalised base URL ("" when it is unusable, with the reason in `errors`)."""
    try:
        url = urls.normalize_base(raw or "")
    except urls.UrlError as exc:
        errors["url"] = str(exc)
        return ""
    if url.startswith("http://") and not allow_http:
        errors["url"] = ("over plain http anyone on the network can read the secret: use "
                         "https, or allow plain http for this credential (--allow-http) if "
                         "the network is trusted")
    duplicate = Credential.select().where(Credential.url == url, _others(existing))
    if duplicate.exists():
        errors["url"] = f"the credential {duplicate.get().identifier!r} already covers " \
                        "exactly this URL"
    return url


def _clean(values, existing=None):
    """Validated values to store, or CredentialInvalid. `secret` "" keeps the stored one."""
    errors = {}
    identifier = (values.get("identifier") or "").strip()
    _check_identifier(identifier, existing, errors)
    method = values.get("method") or "basic"
    generation = values.get("generation") or "auto"
    methods.check_method(method, generation, errors)
    allow_http = bool(values.get("allow_http"))
    url = _check_url(values.get("url"), allow_http, existing, errors)
    username = (values.get("username") or "").strip()
    secret = values.get("secret") or ""
    methods.check_username(method, username, errors)
    methods.check_secret(method, secret, url, existing, errors)
    login_url = methods.login_url_of(method, values)
    methods.check_login_url(login_url, url, errors)
    if errors:
        raise CredentialInvalid(errors)
    return {"identifier": identifier, "url": url, "method": method, "username": username,
            "login_url": login_url, "allow_http": allow_http, "generation": generation,
            "secret": secret}


def add(config=None, actor="", **values):
    """Create a credential from identifier, url, method, username, secret, login_url,
    allow_http, generation. CredentialInvalid says what to fix."""
    clean = _clean(values)
    key = _config(config).key
    clean["secret"] = crypto.encrypt(clean["secret"], key)
    try:
        with write_transaction():
            cred = Credential.create(**clean)
            audit.record("credential.create", actor, identifier=cred.identifier, url=cred.url,
                         method=cred.method)
    except pw.IntegrityError:
        raise CredentialInvalid({"identifier": "a credential with this name already exists"}) \
            from None
    return cred


def update(cred, config=None, actor="", **values):
    """Change a credential; an empty `secret` keeps the stored one."""
    clean = _clean(values, existing=cred)
    changed_secret = bool(clean["secret"])
    if changed_secret:
        clean["secret"] = crypto.encrypt(clean["secret"], _config(config).key)
    else:
        del clean["secret"]
    clean["updated"] = now()
    with write_transaction():
        Credential.update(**clean).where(Credential.id == cred.id).execute()
        audit.record("credential.update", actor, identifier=clean["identifier"],
                     url=clean["url"], method=clean["method"], secret_changed=changed_secret)
    return Credential.get_by_id(cred.id)


def delete(cred, actor=""):
    with write_transaction():
        audit.record("credential.delete", actor, identifier=cred.identifier, url=cred.url)
        cred.delete_instance()


# --- outbound policy -----------------------------------------------------------------------

def normalize_origin(text):
    """`https://Host:443/any/path` -> `https://host`; UrlError for anything else."""
    return urls.locate(text).origin


def allowed_origins():
    return [row.origin for row in AllowedOrigin.select().order_by(AllowedOrigin.origin)]


def add_origin(text, actor=""):
    try:
        origin = normalize_origin(text)
    except urls.UrlError as exc:
        raise CredentialInvalid({"origin": str(exc)}) from None
    try:
        with write_transaction():
            AllowedOrigin.create(origin=origin)
            audit.record("origin.allow", actor, origin=origin)
    except pw.IntegrityError:
        raise CredentialInvalid({"origin": f"{origin} is already allowed"}) from None
    return origin


def remove_origin(text, actor=""):
    """Remove an allowed origin; False when it was not in the list."""
    try:
        origin = normalize_origin(text)
    except urls.UrlError:
        origin = (text or "").strip()
    with write_transaction():
        removed = AllowedOrigin.delete().where(AllowedOrigin.origin == origin).execute()
        if removed:
            audit.record("origin.remove", actor, origin=origin)
    return bool(removed)


def origin_policy():
    """The outbound allow-list now: the credentials' origins and the admin's list."""
    origins = set(allowed_origins())
    for cred in all_credentials():
        try:
            origins.add(urls.locate(cred.url).origin)
        except urls.UrlError:
            continue
    return urls.OriginPolicy(origins)


def check_outbound(url):
    """Raise OutboundRefused unless a request to `url` is allowed; nothing is sent."""
    origin_policy()(url)


# --- clients -------------------------------------------------------------------------------

def auth_for(cred, config=None):
    """The remote auth object of a stored credential (the secret decrypted in memory only)."""
    try:
        secret = crypto.decrypt(cred.secret, _config(config).key)
    except crypto.SecretUnreadable as exc:
        raise CredentialUnusable(f"credential {cred.identifier!r}: {exc}", url=cred.url) from None
    return rauth.make_auth(cred.method, cred.url, username=cred.username, secret=secret,
                           login_url=cred.login_url, allow_http=cred.allow_http,
                           identifier=cred.identifier)


def _client(url, cred, config, session, generation):
    cfg = _config(config)
    policy = origin_policy()
    try:
        base = urls.normalize_base(url)
    except urls.UrlError as exc:
        raise OutboundRefused(str(exc), url=url) from None
    policy(base)  # refused before anything is sent
    auth = auth_for(cred, cfg) if cred is not None else None
    chosen = generation or (cred.generation if cred is not None else None) or "auto"
    return TikiClient(base, generation=chosen, auth=auth, session=session, timeout=cfg.timeout,
                      verify=cfg.ca_bundle or True, retries=cfg.retries, backoff=cfg.backoff,
                      outbound=policy)


def client_for(url, *, session=None, config=None, generation=None):
    """A TikiClient for the master at `url`, with the matching credential (if any), the
    outbound policy, timeouts, TLS verification and the CA bundle from `config`."""
    try:
        base = urls.normalize_base(url)
    except urls.UrlError as exc:
        raise OutboundRefused(str(exc), url=url) from None
    return _client(base, match(base), config, session, generation)


def client_for_credential(cred, *, session=None, config=None):
    """A TikiClient for a credential's own URL, with that credential."""
    return _client(cred.url, cred, config, session, None)


UNREACHED = (ConnectionFailed, Timeout, TlsError, OutboundRefused)


def probe(cred, *, session=None, config=None):
    """Try a credential: did the master answer, which generation, may the account list
    trackers and read items? Never raises for remote trouble; the answer says what failed."""
    result = {"identifier": cred.identifier, "url": cred.url, "answered": False,
              "generation": None, "version": None, "list_trackers": False, "trackers": None,
              "list_items": None, "tracker_checked": None, "clock_skew": None, "ok": False,
              "message": "", "error": None, "not_tiki": False}
    client = None
    try:
        client = client_for_credential(cred, session=session, config=config)
        result["generation"] = client.detect()
        result["version"] = client.version
        trackers = client.list_trackers()
        result.update(answered=True, list_trackers=True, trackers=len(trackers))
        if trackers:
            result["tracker_checked"] = trackers[0]["id"]
            pages = client.iter_items(trackers[0]["id"], page_size=1)
            next(pages, None)  # one request: maxRecords=1
            pages.close()
            result["list_items"] = True
    except RemoteError as exc:
        result["error"] = str(exc)
        result["not_tiki"] = isinstance(exc, NotATiki)
        result["answered"] = not isinstance(exc, UNREACHED + (CredentialUnusable,))
        if not result["answered"]:
            result["generation"] = result["version"] = None  # assumed, never confirmed
        if result["list_trackers"]:
            result["list_items"] = False
    finally:
        if client is not None:
            if client.last_server_time is not None:
                result["clock_skew"] = client.last_server_time - int(time.time())
            client.close()
    result["ok"] = bool(result["list_trackers"] and result["list_items"])
    result["message"] = _summary(result)
    return result


def _summary(r):
    if not r["answered"]:
        return f"Not reached: {r['error']}"
    if r["not_tiki"]:
        return r["error"][:1].upper() + r["error"][1:]
    script = {"A": "tiki-ajax_services.php", "B": "tiki-api.php"}.get(r["generation"], "?")
    how = f"Tiki {r['version']} via {script}" if r["version"] else f"via {script}"
    answered = f"{r['url']} answered ({how})"
    if not r["list_trackers"]:
        return f"{answered} but refused to list trackers: {r['error']}"
    if not r["trackers"]:
        return (f"{answered} but this account sees no trackers: check its rights (a Tiki "
                "ignores HTTP Basic unless its preference login_http_basic is always, and "
                "always on tiki-api.php: use a token there, or the session method)")
    count = f"{r['trackers']} tracker" + ("" if r["trackers"] == 1 else "s")
    if not r["list_items"]:
        return f"{answered}; the account lists {count} but may not read items: {r['error']}"
    return (f"{answered}; the account lists {count} and may read items (checked on tracker "
            f"{r['tracker_checked']}).")
