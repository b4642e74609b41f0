"""The master's API as Tiki speaks it (a pytest plugin, registered in tests/conftest.py).

Helpers the test_master_* modules import: a demo tracker (`make_demo`, `add_items`), clients
that send what Tiki's do (`TikiA` for tiki-ajax_services.php, `TikiB` for tiki-api.php), PHP's
form encoding and `snapshot()` of every row. The fixture `master` sets them up together.
"""
import base64
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from tests.support.apps import PASSWORD
from tests.support.pages import url
from tikisync_web import accounts
from tikisync_web import items as svc
from tikisync_web.db import database
from tikisync_web.migrations import SchemaVersion
from tikisync_web.models import ALL_MODELS, Field, SignInThrottle, Tracker

ACCEPT = {"Accept": "application/json"}  # exactly what Tiki's clients send (§3.1)
FORM = "application/x-www-form-urlencoded"

MULTILINE = "Say what it is.\n[ABC]\nkey = value\n# not a comment\n  indented \\ and C:\\new"
DEMO_FIELDS = [
    # perm, label, type, options, mandatory, description
    ("title", "Title", "t", {"samerow": 1}, True, MULTILINE),
    ("amount", "Amount", "n", {"samerow": 1, "decimals": 2}, False, "A number"),
    ("priority", "Priority", "d", {"options": ["low", "medium", "high"]}, False, ""),
    ("assignee", "Assignee", "u", {"multiple": 0}, False, "User selector"),
    ("due", "Due", "j", {"datetime": "d"}, False, ""),
    ("done", "Done", "c", {}, False, ""),
    ("team", "Team", "e", {"options": ["12=Sales", "13=Support"], "inputtype": "d"}, False, ""),
    ("notes", "Notes", "a", {}, False, "Free text\r\nover lines"),
    ("section", "Section", "h", {}, False, ""),
]


def php_pairs(params, prefix=None):
    """(name, value) pairs as PHP's http_build_query makes them: brackets for nesting, nulls
    omitted, booleans as 1/0 (Zend/Laminas HTTP clients, §3.1)."""
    pairs = []
    items = params.items() if isinstance(params, dict) else enumerate(params)
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix is not None else str(key)
        if value is None:
            continue
        if isinstance(value, (dict, list, tuple)):
            pairs.extend(php_pairs(value, name))
        elif isinstance(value, bool):
            pairs.append((name, "1" if value else "0"))
        else:
            pairs.append((name, str(value)))
    return pairs


def php_query(params):
    return urlencode(php_pairs(params))


def basic(username, password=PASSWORD):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class TikiA:
    """Tiki 9-23's Services_RemoteController: every call a POST to tiki-ajax_services.php with
    controller/action in the query, arguments form-encoded, HTTP Basic."""

    def __init__(self, client, headers=None):
        self.client, self.headers = client, {**ACCEPT, **(headers or {})}
        self.requests = 0

    def url(self, controller, action):
        return url(self.client.application, "tikisync_master.ajax_services",
                   controller=controller, action=action)

    def call(self, action, controller="tracker", method="POST", **args):
        self.requests += 1
        return self.client.open(self.url(controller, action), method=method,
                                data=php_query(args), content_type=FORM, headers=self.headers)

    def json(self, action, controller="tracker", **args):
        response = self.call(action, controller, **args)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        return response.get_json()

    def load_all(self, action, per_page=20, controller="tracker", **args):
        """Tiki's ResultLoader: offset 0, 20, 40, ... until a page is shorter than per_page."""
        found, offset = [], 0
        while True:
            page = self.json(action, controller, offset=offset, maxRecords=per_page, **args)
            assert isinstance(page["result"], list)
            found.extend(page["result"])
            if len(page["result"]) < per_page:
                return found
            offset += per_page


class TikiB:
    """Tiki 24's Services_ApiClient: tiki-api.php?route=..., GET reads with the arguments in
    the query, POST writes with a form body, a Bearer token."""

    def __init__(self, client, headers=None, shape="query"):
        self.client, self.headers, self.shape = client, {**ACCEPT, **(headers or {})}, shape

    def url(self, route):
        app = self.client.application
        if self.shape == "rewrite":  # Tiki's /api/... rewrite
            return url(app, "tikisync_master.api_path", route=route)
        if self.shape == "raw":  # raw slashes in route=, as Tiki's client sends them
            return url(app, "tikisync_master.api") + "?route=" + route
        return url(app, "tikisync_master.api", route=route)  # %2F-encoded slashes

    def get(self, route, **args):
        target = self.url(route)
        if args:
            target += ("&" if "?" in target else "?") + php_query(args)
        return self.client.get(target, headers=self.headers)

    def post(self, route, **args):
        return self.client.post(self.url(route), data=php_query(args), content_type=FORM,
                                headers=self.headers)


def make_demo(name="SyncDemo", fields=DEMO_FIELDS, description="Demo tracker"):
    with database.connection_context():
        tracker = Tracker.create(name=name, description=description)
        for position, (perm, label, code, options, mandatory, help_text) in enumerate(fields, 1):
            Field.create(tracker=tracker, perm_name=perm, name=label, type=code, options=options,
                         mandatory=mandatory, position=position * 10, description=help_text,
                         flags={"isMain": "y" if position == 1 else "n", "isTblVisible": "y",
                                "isSearchable": "y", "isPublic": "y", "isHidden": "n"})
        return tracker


def add_items(tracker, rows):
    """Items through the item service (validated like the form); returns their ids."""
    with database.connection_context():
        return [svc.create_item(tracker, values, status=status, username="seed").id
                for status, values in rows]


DEMO_ITEMS = [
    ("o", {"title": "First item", "amount": "12.5", "priority": "high", "assignee": "editor",
           "due": "2025-03-01", "done": "y", "team": "12"}),
    ("p", {"title": "Second item", "amount": "3", "priority": "low", "assignee": "viewer"}),
    ("c", {"title": "Third item", "amount": "-7.25", "priority": "medium"}),
]


@pytest.fixture
def master(app, users):
    """The demo tracker with three items, a token per role and Tiki-speaking clients."""
    tracker = make_demo()
    ids = add_items(tracker, DEMO_ITEMS)
    with database.connection_context():
        tokens = {role: accounts.create_token(user, f"{role} test") for role, user in users.items()}
    client = app.test_client()
    client.send_csrf = False  # these endpoints take no CSRF token; send exactly what Tiki sends
    return SimpleNamespace(
        app=app, client=client, tracker=tracker, item_ids=ids, users=users, tokens=tokens,
        a={role: TikiA(client, basic(role)) for role in users},
        b={role: TikiB(client, bearer(token)) for role, token in tokens.items()},
        anonymous_a=TikiA(client), anonymous_b=TikiB(client),
    )


def snapshot():
    """Every row of every table, to prove a request changed nothing. A token's last_used is
    left out: using a token records when (at most once a minute), which is no data change; so
    are the counts of failed sign-ins (SignInThrottle), which a wrong password must update."""
    tables = {}
    with database.connection_context():
        for model in [SchemaVersion, *ALL_MODELS]:
            if model is SignInThrottle:
                continue
            columns = [f for name, f in model._meta.fields.items()
                       if not (model.__name__ == "ApiToken" and name == "last_used")]
            query = model.select(*columns).order_by(*model._meta.get_primary_keys())
            tables[model.__name__] = list(query.dicts())
    return tables
