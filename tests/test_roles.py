"""Every route of the `tikisync` blueprint, taken from the app's url_map (so a route added later
is covered without touching this file), requested by each role and without a CSRF token.

- Nobody ever gets a 500.
- Anonymous requests go to the login page (302/303, or 401 + HX-Location for htmx).
- A route listed in MIN_ROLE refuses (403) every role below its minimum and admits the others.
- A route NOT listed still gets the checks that need no table: anonymous is refused, a viewer
  is refused any state-changing method (viewers only read), and no 500.
- Every state-changing route refuses a request without a CSRF token (400) and changes nothing.

The master blueprint (`tikisync_master`) authenticates each request itself and is skipped.
"""
import pytest

from tests.support import seed
from tests.support.apps import Auth, Client, make_app, make_user
from tests.support.databases import module_db_url
from tests.support.pages import url
from tikisync_web import accounts
from tikisync_web.db import database
from tikisync_web.models import ALL_MODELS, AllowedOrigin, Credential, Field, Job, Setting

ROLES = ("viewer", "editor", "admin")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# The least role each route admits; None: open to everyone. A dict gives it per method.
# Add your route here to have its role checked exactly (unlisted routes get the generic checks).
MIN_ROLE = {
    "tikisync.static": None,
    "tikisync.login": None,
    "tikisync.logout": None,
    "tikisync.cookie_check": None,  # the sign-in page asks it, before anyone signs in
    "tikisync.dashboard": "viewer",
    "tikisync.items": "viewer",
    "tikisync.item": "viewer",
    "tikisync.fields": "viewer",
    "tikisync.item_new": "editor",
    "tikisync.item_edit": "editor",
    "tikisync.item_delete": "editor",
    "tikisync.tracker_new": "admin",
    "tikisync.tracker_edit": "admin",
    "tikisync.tracker_delete": "admin",
    "tikisync.field_new": "admin",
    "tikisync.field_edit": "admin",
    "tikisync.field_move": "admin",
    "tikisync.field_delete": "admin",
    "tikisync.users": "admin",
    "tikisync.user_create": "admin",
    "tikisync.user_edit": "admin",
    "tikisync.tokens": "admin",
    "tikisync.token_create": "admin",
    "tikisync.token_revoke": "admin",
    "tikisync.settings": "admin",
    "tikisync.clone": "admin",
    "tikisync.clone_trackers": "admin",
    "tikisync.clone_preview": "admin",
    "tikisync.clone_create": "admin",
    "tikisync.clone_done": "admin",
    "tikisync.tracker_drift": "admin",
    "tikisync.tracker_adopt": "admin",
}


def min_role(endpoint, method):
    wanted = MIN_ROLE.get(endpoint, "unlisted")
    return wanted.get(method, "unlisted") if isinstance(wanted, dict) else wanted


def routes():
    """(endpoint, method, rule) for every route of the UI blueprint, from a throwaway app."""
    import tempfile
    from pathlib import Path

    from tests.support.apps import make_app

    folder = Path(tempfile.mkdtemp())
    app = make_app(f"sqlite:///{folder}/routes.db", folder)
    database.close()
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("tikisync."):
            continue  # tikisync_master authenticates differently; host routes are not ours
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method))
    return sorted(found)


ROUTES = routes()


def route_id(route):
    endpoint, method = route
    listed = "" if endpoint in MIN_ROLE else "-unlisted"
    return f"{endpoint}-{method}{listed}"


class Objects:
    """One set of real rows per requester, so one role's successful delete cannot hide another's
    answer: a tracker with fields and an item, a user, a token, a credential, an origin, a job."""

    def __init__(self, label):
        self.tracker = seed.make_tracker(f"Tracker {label}", seed.TYPED_FIELDS[:2])
        self.field = Field.get(Field.tracker == self.tracker, Field.perm_name == "title")
        self.item = seed.add_item(self.tracker, title=f"item {label}")
        self.user = make_user(f"target-{label}", "viewer")
        accounts.create_token(self.user, label)
        self.token = self.user.tokens.get()
        # A closed loopback port: a route that tries to reach it fails at once, offline too.
        self.credential = Credential.create(identifier=f"cred-{label}"[:50],
                                            url=f"http://127.0.0.1:9/{label}/")
        self.origin = AllowedOrigin.create(origin=f"https://origin-{label}.example")
        self.job = Job.create(kind="reload", tracker=self.tracker, state="done")

    def values(self, rule):
        """Real values for the rule's arguments, by name; unknown ints get 1."""
        by_name = {"tracker_id": self.tracker.id, "field_id": self.field.id,
                   "item_id": self.item.id, "user_id": self.user.id, "token_id": self.token.id,
                   "cred_id": self.credential.id, "credential_id": self.credential.id,
                   "origin_id": self.origin.id, "job_id": self.job.id,
                   "filename": "tikisync/tikisync.css"}
        values = {}
        for name in rule.arguments:
            converter = type(rule._converters.get(name)).__name__
            values[name] = by_name.get(name, 1 if converter == "IntegerConverter" else "x")
        return values


REQUESTERS = ("anonymous",) + ROLES


class World:
    """One app for the module, with one set of objects per (route, requester) made up front in
    a single transaction (a commit per set would cost seconds on MariaDB)."""

    def __init__(self, app):
        self.app = app
        with database.connection_context(), database.atomic():
            self.users = {role: make_user(role, role) for role in ROLES}
            reading = Objects("read")  # reading changes nothing: every GET shares one set
            self.objects = {}
            for n, route in enumerate(ROUTES):
                if route[1] not in UNSAFE:
                    self.objects.update({(route, who): reading for who in REQUESTERS + ("csrf",)})
                    continue
                # Requests that must be refused share a set (a wrong success fails the test
                # anyway); requests that may succeed get their own.
                refused = Objects(f"{n}-refused")
                self.objects.update({(route, who): refused for who in ("anonymous", "csrf")})
                self.objects[route, "viewer"] = refused
                for role in ("editor", "admin"):
                    self.objects[route, role] = Objects(f"{n}-{role}")

    def reset_settings(self):
        """Site settings back to their defaults: a test's admin may have posted the settings
        form (switching synchronization off), which must not decide the next test's answers."""
        with database.connection_context():
            Setting.delete().execute()

    def client(self, role=None, csrf=True):
        client = self.app.test_client()
        client.send_csrf = csrf
        if role is not None:
            Auth(client, self.users).become(role)
        return client


@pytest.fixture(scope="module")
def world(tmp_path_factory, server_db_url):
    folder = tmp_path_factory.mktemp("roles")
    app = make_app(module_db_url(folder, server_db_url), folder)
    yield World(app)
    if not database.is_closed():
        database.close()


def snapshot():
    """Every row of every table: what "nothing changed" is checked against."""
    with database.connection_context():
        return {model.__name__: sorted(map(repr, model.select().tuples()))
                for model in ALL_MODELS}


def rule_of(app, endpoint, method):
    return next(r for r in app.url_map.iter_rules()
                if r.endpoint == endpoint and method in r.methods)


def request(client, app, endpoint, method, objects, headers=None):
    rule = rule_of(app, endpoint, method)
    target = url(app, endpoint, **objects.values(rule))
    response = client.open(target, method=method, headers=headers or {},
                           data={} if method in UNSAFE else None)
    response.get_data()  # read it all (static files stream), then release the file
    response.close()
    return response


def is_login_redirect(app, response):
    return response.status_code in (302, 303) and response.location.split("?")[0] == url(
        app, "tikisync.login")


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_each_role_gets_the_right_answer(world, route):
    app = world.app
    endpoint, method = route
    wanted = min_role(endpoint, method)
    world.reset_settings()

    anonymous = request(world.client(), app, endpoint, method, world.objects[route, "anonymous"])
    assert anonymous.status_code < 500
    if wanted is not None:
        assert is_login_redirect(app, anonymous), anonymous.status_code
        assert anonymous.status_code == (303 if method in UNSAFE else 302)
        login_next = anonymous.location.split("next=", 1)[1]
        assert login_next  # back to where they were, after signing in
        hx = request(world.client(), app, endpoint, method, world.objects[route, "anonymous"],
                     headers={"HX-Request": "true"})
        assert hx.status_code == 401
        assert hx.headers["HX-Location"].split("?")[0] == url(app, "tikisync.login")

    for role in ROLES:
        response = request(world.client(role), app, endpoint, method, world.objects[route, role])
        assert response.status_code < 500, (role, response.status_code)
        assert not is_login_redirect(app, response) or endpoint == "tikisync.logout", role
        if wanted == "unlisted":
            if role == "viewer" and method in UNSAFE:
                assert response.status_code == 403, "viewers only read"
            continue
        if wanted is not None and ROLES.index(role) < ROLES.index(wanted):
            assert response.status_code == 403, (role, response.status_code)
            assert f"needs the {wanted} role" in response.get_data(as_text=True)
        else:
            assert response.status_code not in (401, 403), (role, response.status_code)


UNSAFE_ROUTES = [r for r in ROUTES if r[1] in UNSAFE]


@pytest.mark.parametrize("route", UNSAFE_ROUTES, ids=route_id)
def test_state_changing_routes_refuse_requests_without_a_csrf_token(world, route):
    app = world.app
    endpoint, method = route
    objects = world.objects[route, "csrf"]
    before = snapshot()
    for role in (None,) + ROLES:
        client = world.client(role, csrf=False)
        assert isinstance(client, Client)
        response = request(client, app, endpoint, method, objects)
        assert response.status_code == 400, (role, response.status_code)
        assert "Request refused" in response.get_data(as_text=True)
    after = snapshot()
    assert [t for t in before if before[t] != after[t]] == []
    # A token that is not this session's is refused too.
    client = world.client("admin", csrf=False)
    response = client.open(url(app, endpoint, **objects.values(rule_of(app, endpoint, method))),
                           method=method, data={"csrf_token": "forged"})
    assert response.status_code == 400


def test_login_without_a_csrf_token_is_refused(world):
    client = world.client(csrf=False)
    response = client.post(url(world.app, "tikisync.login"),
                           data={"username": "admin", "password": "correct horse battery"})
    assert response.status_code == 400
    with client.session_transaction() as sess:
        assert "tikisync_user_id" not in sess


def test_htmx_requests_may_carry_the_token_in_a_header(world):
    client = world.client("admin", csrf=False)
    field = world.objects[ROUTES[0], "csrf"].field
    response = client.post(url(world.app, "tikisync.field_move", field_id=field.id),
                           data={"direction": "down"},
                           headers={"X-CSRFToken": client.csrf_token(), "HX-Request": "true",
                                    "HX-Target": "field-list"})
    assert response.status_code == 200


def test_cross_site_posts_are_refused_even_with_a_token(world):
    client = world.client("admin")
    tracker = world.objects[ROUTES[0], "csrf"].tracker
    before = snapshot()
    response = client.post(url(world.app, "tikisync.tracker_delete", tracker_id=tracker.id),
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    assert snapshot() == before


def test_a_deactivated_user_is_signed_out(world):
    with database.connection_context():
        user = make_user("short-lived", "editor")
    client = world.app.test_client()
    Auth(client, {"editor": user}).become("editor")
    assert client.get(url(world.app, "tikisync.dashboard")).status_code == 200
    with database.connection_context():
        type(user).update(active=False).where(type(user).id == user.id).execute()
    assert is_login_redirect(world.app, client.get(url(world.app, "tikisync.dashboard")))


def test_the_role_table_names_only_real_routes():
    # A renamed route must not leave a stale line here that silently checks nothing.
    endpoints = {endpoint for endpoint, _ in ROUTES}
    assert set(MIN_ROLE) <= endpoints
