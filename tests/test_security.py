"""Security as tests (issue 12, "What to build"), each probe family a row of the reliability
report: no secret in any page, header, log or error; the headers on every page; no markup of
anyone's making runs on any page; password guessing at the numbers the fault matrix used; and
copied session cookies after sign-out and a new password. Routes x roles and CSRF are in
test_roles.py (they record their rows there); the details of the throttle and of sessions in
test_throttle.py and test_sessions.py.
"""
import base64
import logging
import secrets

import pytest

from tests.support import seed
from tests.support.apps import PASSWORD, Auth, make_app, make_user
from tests.support.master_api import ACCEPT, basic, bearer
from tests.support.pages import soup, url
from tests.support.report import record
from tikisync_web import accounts, throttle
from tikisync_web import credentials as creds
from tikisync_web.db import database
from tikisync_web.jobs import handlers
from tikisync_web.master import access
from tikisync_web.models import Field, Item, Tracker

pytestmark = pytest.mark.reliability

ROLES = ("viewer", "editor", "admin")
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\'><svg onload=alert(3)>'


class Site:
    """An app with secrets of every kind, and real rows of every kind to look at."""

    def __init__(self, db_url, tmp_path, master):
        self.secret_key = "sk-" + secrets.token_hex(16)
        self.storage_key = "tk-" + secrets.token_hex(16)
        self.app = make_app(db_url, tmp_path, SECRET_KEY=self.secret_key,
                            TIKISYNC_SECRET_KEY=self.storage_key)
        self.app.config["PROPAGATE_EXCEPTIONS"] = False
        self.master = master
        self.cred_secret = "cs-" + secrets.token_hex(12)
        with database.connection_context():
            self.users = {role: make_user(role, role) for role in ROLES}
            self.token = accounts.create_token(self.users["editor"], "sync")
            self.cred = creds.add(handlers.remote_config(self.app.config), identifier="master",
                                  url=master.url, method="basic", username="someone",
                                  secret=self.cred_secret, allow_http=True)
            self.tracker = seed.make_tracker(f"Tracker {HOSTILE}", seed.TYPED_FIELDS,
                                             description=HOSTILE)
            Field.update(description=HOSTILE).where(Field.tracker == self.tracker).execute()
            self.item = seed.add_item(self.tracker, title=HOSTILE, homepage="https://x.example/"
                                      + "%3Cscript%3E")
            self.clone = Tracker.create(name=HOSTILE, source_url=master.url,
                                        remote_tracker_id=1, protocol="A", credential=self.cred)
            Item.create(tracker=self.clone, values={}, remote_id=7, status="o")
        self.secrets = [self.secret_key, self.storage_key, self.cred_secret, self.token,
                        PASSWORD, base64.b64encode(f"editor:{PASSWORD}".encode()).decode()]

    def client(self, role=None):
        client = self.app.test_client()
        if role is not None:
            Auth(client, self.users).become(role)
        return client

    def get_routes(self):
        """Every GET route of the UI, with real ids."""
        by_name = {"tracker_id": self.tracker.id, "item_id": self.item.id,
                   "field_id": Field.get(Field.tracker == self.tracker).id,
                   "user_id": self.users["viewer"].id, "cred_id": self.cred.id,
                   "credential_id": self.cred.id, "job_id": 1, "token_id": 1, "origin_id": 1,
                   "entry_id": 1}
        found = []
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint.startswith("tikisync.") and "GET" in rule.methods \
                    and rule.endpoint != "tikisync.static":
                values = {name: by_name[name] for name in rule.arguments}
                found.append(url(self.app, rule.endpoint, **values))
                if "tracker_id" in rule.arguments:  # the clone's pages too
                    found.append(url(self.app, rule.endpoint,
                                     **{**values, "tracker_id": self.clone.id}))
        return found


@pytest.fixture
def site(db_url, tmp_path, make_master):
    # A master that knows the credential, its error messages echoing what it was sent.
    master = make_master(accounts={"someone": "placeholder"},
                         tracker={"trackerId": 1, "name": HOSTILE, "description": HOSTILE},
                         items=[("o", {"title": HOSTILE, "priority": "low"})])
    access.forget_verified()
    made = Site(db_url, tmp_path, master)
    master.accounts["someone"] = made.cred_secret
    yield made
    access.forget_verified()
    if not database.is_closed():
        database.close()


def leaks(site, text):
    return [s[:6] + "…" for s in site.secrets if s in text]


def answers_to_everything(site):
    """What everyone sees of every GET route, plus the actions that talk to a master that is
    not there, failed sign-ins, and the master API with right and wrong credentials."""
    app, seen = site.app, []
    for who in (None,) + ROLES:
        client = site.client(who)
        for target in site.get_routes():
            seen.append(client.get(target))
    admin = site.client("admin")
    for endpoint in ("tikisync.tracker_reload", "tikisync.tracker_check",
                     "tikisync.tracker_refresh_fields"):
        seen.append(admin.post(url(app, endpoint, tracker_id=site.clone.id),
                               follow_redirects=True))
    site.master.settings.answer_status = 401  # the master now refuses the credential
    seen.append(admin.post(url(app, "tikisync.tracker_reload", tracker_id=site.clone.id),
                           follow_redirects=True))
    seen.append(admin.get(url(app, "tikisync.tracker_drift", tracker_id=site.clone.id)))
    site.master.settings.answer_status = None
    seen.append(admin.post(url(app, "tikisync.credential_test", cred_id=site.cred.id),
                           follow_redirects=True))
    seen.append(admin.get(url(app, "tikisync.clone_trackers", credential="master")))
    seen.append(admin.post(url(app, "tikisync.credential_edit", cred_id=site.cred.id),
                           data={"identifier": "master", "url": "not a url", "method": "basic",
                                 "secret": site.cred_secret}))  # 422: the form comes back
    anonymous = site.client()
    seen.append(anonymous.post(url(app, "tikisync.login"),
                               data={"username": "editor", "password": PASSWORD + "x"}))
    api = app.test_client()
    api.send_csrf = False
    target = url(app, "tikisync_master.ajax_services", controller="tracker",
                 action="list_items")
    for headers in (basic("editor"), basic("editor", PASSWORD + "x"), bearer(site.token),
                    bearer(site.token + "x")):
        seen.append(api.post(target, data={"trackerId": site.tracker.id},
                             headers={**ACCEPT, **headers}))
    return seen


def test_no_secret_in_any_page_header_log_or_error(site, caplog):
    caplog.set_level(logging.DEBUG)
    responses = answers_to_everything(site)
    assert {r.status_code for r in responses} >= {200, 302, 401, 403, 404, 422}
    found = []
    for response in responses:
        text = response.get_data(as_text=True) + str(response.headers)
        found += [(response.request.path, leak) for leak in leaks(site, text)]
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    found += [("the log", leak) for leak in leaks(site, logged)]
    errors_500 = sum(r.status_code >= 500 for r in responses)
    record("security", "no secret in pages, headers, logs, errors", len(responses) + 1,
           errors_500=errors_500, unclear=len(found),
           note="unclear = secrets found (SECRET_KEY, storage key, credential, API token, "
                "password)")
    assert found == [] and errors_500 == 0


def test_an_api_token_is_shown_once_and_never_again(site, caplog):
    caplog.set_level(logging.DEBUG)
    admin = site.client("admin")
    created = admin.post(url(site.app, "tikisync.token_create"),
                         data={"username": "viewer", "label": "new"})
    token = soup(created).find(id="new-token")
    assert token is not None
    site.secrets.append(token.get_text(strip=True))
    assert leaks(site, created.get_data(as_text=True))  # shown, this once
    later = [admin.get(url(site.app, endpoint)) for endpoint in ("tikisync.tokens",
                                                                 "tikisync.users")]
    assert not [leak for page in later for leak in leaks(site, page.get_data(as_text=True))]
    assert not leaks(site, caplog.text)


def test_every_page_carries_the_guarding_headers(site):
    checked, wrong = 0, []
    for who in (None,) + ROLES:
        client = site.client(who)
        for target in site.get_routes():
            response = client.get(target)
            if response.mimetype != "text/html":
                continue
            checked += 1
            policy = {part.split()[0]: part.split()[1:] for part in
                      response.headers.get("Content-Security-Policy", "").split(";")
                      if part.strip()}
            good = policy.get("script-src") == ["'self'"] and \
                policy.get("object-src") == ["'none'"] and \
                policy.get("base-uri") == ["'self'"] and \
                policy.get("frame-ancestors") == ["'self'"] and \
                response.headers.get("X-Content-Type-Options") == "nosniff"
            if not good:
                wrong.append((who, target, response.status_code))
    api = site.app.test_client()
    answer = api.post(url(site.app, "tikisync_master.ajax_services", controller="tracker",
                          action="list_trackers"), headers=ACCEPT)
    checked += 1
    if answer.headers.get("X-Content-Type-Options") != "nosniff" or \
            answer.headers.get("Cache-Control") != "no-store":
        wrong.append(("master", "list_trackers", answer.status_code))
    signing_in = site.client().post(url(site.app, "tikisync.login"),
                                    data={"username": "viewer", "password": PASSWORD})
    cookie = "; ".join(signing_in.headers.getlist("Set-Cookie"))
    checked += 1
    if "SameSite=Lax" not in cookie or "HttpOnly" not in cookie:
        wrong.append(("session cookie", cookie, signing_in.status_code))
    record("security", "headers on every page (CSP script-src, frame-ancestors, nosniff), "
           "SameSite=Lax cookie", checked, unclear=len(wrong), note="unclear = pages without")
    assert wrong == []


def inline_scripts(page):
    """Markup that would run: script bodies, on* handlers, javascript: URLs."""
    found = [f"<script>{s.string[:30]}" for s in page.find_all("script")
             if (s.string or "").strip()]
    for tag in page.find_all(True):
        for name, value in tag.attrs.items():
            if name.lower().startswith("on"):
                found.append(f"<{tag.name} {name}>")
            if name in ("href", "src", "action") and str(value).strip().lower().startswith(
                    "javascript:"):
                found.append(f"<{tag.name} {name}={value[:30]}>")
    return found


def test_no_markup_of_anyones_making_runs_on_any_page(site):
    pages, found = 0, []
    for who in ROLES:
        client = site.client(who)
        for target in site.get_routes():
            response = client.get(target)
            if response.mimetype != "text/html":
                continue
            pages += 1
            found += [(who, target, bad) for bad in inline_scripts(soup(response))]
    record("security", "XSS: hostile names and values on every page", pages,
           unclear=len(found), note="unclear = markup that would run")
    assert found == []


def test_password_guessing_at_the_fault_matrix_numbers(site):
    """50 wrong passwords on the form (the matrix's 50 in 6 s) and 40 HTTP Basic ones on the
    master: only the first few are checked at all, every refusal says how long to wait."""
    app = site.app
    form, checked_form, unclear = site.client(), 0, 0
    for _ in range(50):
        response = form.post(url(app, "tikisync.login"),
                             data={"username": "viewer", "password": "guess"})
        checked_form += response.status_code == 422
        if response.status_code == 429:
            unclear += "Too many failed sign-ins" not in response.get_data(as_text=True) or \
                "Retry-After" not in response.headers
    api = app.test_client()
    api.send_csrf = False
    checked_api = 0
    target = url(app, "tikisync_master.ajax_services", controller="tracker",
                 action="list_trackers")
    for _ in range(40):
        response = api.post(target, headers={**ACCEPT, **basic("admin", "guess")},
                            environ_base={"REMOTE_ADDR": "192.0.2.99"})
        checked_api += response.status_code == 401
        if response.status_code == 429:
            unclear += response.get_json()["code"] != 429 or "Retry-After" not in \
                response.headers
    right = form.post(url(app, "tikisync.login"), data={"username": "viewer",
                                                        "password": PASSWORD})
    record("security", "password guesses: 50 on the form, 40 HTTP Basic on the master", 90,
           unclear=unclear, note=f"password checks made: {checked_form} + {checked_api}")
    assert (checked_form, checked_api) == (throttle.ACCOUNT.limit, throttle.ACCOUNT.limit)
    assert unclear == 0
    assert right.status_code == 429  # blocked: not even the right password is checked


def test_copied_session_cookies_die(site):
    app, probes, alive = site.app, 0, 0
    name = app.config["SESSION_COOKIE_NAME"]

    def signed_in(client):
        return client.get(url(app, "tikisync.dashboard")).status_code == 200

    def copy(client):
        cookie = client.get_cookie(name)
        other = app.test_client()
        other.set_cookie(cookie.key, cookie.value)
        return other

    for role in ROLES:
        client = app.test_client()
        assert client.post(url(app, "tikisync.login"),
                           data={"username": role, "password": PASSWORD}).status_code == 303
        thief = copy(client)
        client.post(url(app, "tikisync.logout"))
        probes += 1
        alive += signed_in(thief)
    victim = app.test_client()
    victim.post(url(app, "tikisync.login"), data={"username": "viewer", "password": PASSWORD})
    thief = copy(victim)
    site.client("admin").post(url(app, "tikisync.user_edit", user_id=site.users["viewer"].id),
                              data={"role": "viewer", "active": "y",
                                    "password": "a whole new password"})
    probes += 2
    alive += signed_in(thief) + signed_in(victim)
    record("security", "copied session cookies after sign-out and a new password", probes,
           unclear=alive, note="unclear = cookies still signed in")
    assert alive == 0
