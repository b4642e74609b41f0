"""Bad input on every form (issue 12, "What to build": bad input), property-based: each WTForm
of tikisync_web/forms is posted to the routes that take it, as a user of the right role would.

- Whatever is sent (hostile text in every field, extra fields, lists): never a 500, never a
  traceback, and the answer is a page or a redirect.
- Input that breaks one of the form's own rules (a required field blank, too long, not a
  choice, not a permanent name, not JSON, a number field holding letters, ...): 400 or 422,
  the page says what is wrong, and not one row of the database changed.

Sizes come from tests/support/report.cases (quick in make test, thorough in make reliability).
"""
import importlib
import inspect
import pkgutil

import pytest
from flask_wtf import FlaskForm
from hypothesis import example, given
from hypothesis import strategies as st
from wtforms import SelectField, SelectMultipleField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Length, Regexp

import tikisync_web.forms
from tests.support import seed
from tests.support.apps import Auth, make_app, make_user
from tests.support.databases import module_db_url
from tests.support.pages import soup, url
from tests.support.properties import examples, hostile, tallied
from tikisync_web import accounts
from tikisync_web import fields as ft
from tikisync_web.db import database
from tikisync_web.forms.accounts import (
    LoginForm,
    SettingsForm,
    TokenForm,
    UserEditForm,
    UserForm,
)
from tikisync_web.forms.clone import AdoptForm, CreateForm, SourceForm
from tikisync_web.forms.common import ConfirmForm
from tikisync_web.forms.credentials import CredentialForm, OriginForm
from tikisync_web.forms.items import ItemFormBase
from tikisync_web.forms.schedules import ScheduleForm
from tikisync_web.forms.trackers import FieldForm, TrackerForm
from tikisync_web.models import (
    ALL_MODELS,
    AllowedOrigin,
    Credential,
    Field,
    Job,
    Setting,
    SignInThrottle,
    Tracker,
)

pytestmark = pytest.mark.reliability

# Every form and the routes that take it: (endpoint, method, role; None is anonymous).
ROUTES = {
    LoginForm: [("tikisync.login", "POST", None)],
    UserForm: [("tikisync.user_create", "POST", "admin")],
    UserEditForm: [("tikisync.user_edit", "POST", "admin")],
    TokenForm: [("tikisync.token_create", "POST", "admin")],
    SettingsForm: [("tikisync.settings", "POST", "admin")],
    SourceForm: [("tikisync.clone_trackers", "GET", "admin"),
                 ("tikisync.clone_preview", "GET", "admin")],
    CreateForm: [("tikisync.clone_create", "POST", "admin")],
    AdoptForm: [("tikisync.tracker_adopt", "POST", "admin")],
    ConfirmForm: [("tikisync.item_delete", "POST", "editor"),
                  ("tikisync.tracker_delete", "POST", "admin"),
                  ("tikisync.field_delete", "POST", "admin"),
                  ("tikisync.credential_delete", "POST", "admin"),
                  ("tikisync.token_revoke", "POST", "admin"),
                  ("tikisync.item_resolve", "POST", "admin"),
                  ("tikisync.tracker_push", "POST", "admin"),
                  ("tikisync.field_move", "POST", "admin")],
    CredentialForm: [("tikisync.credential_create", "POST", "admin"),
                     ("tikisync.credential_edit", "POST", "admin")],
    OriginForm: [("tikisync.origin_create", "POST", "admin")],
    TrackerForm: [("tikisync.tracker_new", "POST", "admin"),
                  ("tikisync.tracker_edit", "POST", "admin")],
    FieldForm: [("tikisync.field_new", "POST", "admin"),
                ("tikisync.field_edit", "POST", "admin")],
    ItemFormBase: [("tikisync.item_new", "POST", "editor"),
                   ("tikisync.item_edit", "POST", "editor")],
    ScheduleForm: [("tikisync.schedule_save", "POST", "admin")],
}
# Parameters some routes read beside their form.
EXTRA = {"tikisync.tracker_push": ["items", "force", "digest"],
         "tikisync.field_move": ["direction"],
         "tikisync.item_resolve": ["deleted", "choice-title", "value-title"],
         "tikisync.item_new": ["then"], "tikisync.clone_create": [],
         "tikisync.clone_preview": ["tracker", "anonymous"],
         "tikisync.clone_trackers": ["anonymous"]}
FORM_ROUTES = [(form, *route) for form, routes in ROUTES.items() for route in routes]
ITEM_FIELDS = seed.TYPED_FIELDS  # t (mandatory), m, n, d, j, c, M, L
ROLES = ("viewer", "editor", "admin")


def all_forms():
    """Every FlaskForm class defined in tikisync_web.forms."""
    found = set()
    for module in pkgutil.iter_modules(tikisync_web.forms.__path__):
        loaded = importlib.import_module(f"tikisync_web.forms.{module.name}")
        for _, value in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(value, FlaskForm) and value.__module__ == loaded.__name__:
                found.add(value)
    return found


def test_every_form_is_covered():
    assert all_forms() == set(ROUTES)


def unbound_fields(form_class):
    """name -> UnboundField of a form class and its bases (no request needed)."""
    fields = {}
    for klass in reversed(form_class.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, UnboundField):
                fields[name] = value
    return fields


def field_names(form_class):
    names = list(unbound_fields(form_class))
    if form_class is ItemFormBase:
        names += [f"v_{perm}" for perm, *_ in ITEM_FIELDS]
    return names


# --- the world: one app, real rows for each form route ---------------------------------------

class Objects:
    """Rows a form route acts on, made fresh for each test (a successful delete by one example
    must not decide what another sees)."""

    def __init__(self, label):
        with database.connection_context(), database.atomic():
            self.tracker = seed.make_tracker(f"Tracker {label}", ITEM_FIELDS)
            self.field = Field.get(Field.tracker == self.tracker, Field.perm_name == "title")
            self.item = seed.add_item(self.tracker, title=f"item {label}", amount="3")
            self.user = make_user(f"target-{label}", "viewer")
            accounts.create_token(self.user, label)
            self.token = self.user.tokens.get()
            self.credential = Credential.create(identifier=f"cred-{label}"[:50],
                                                url=f"http://127.0.0.1:9/{label}/")
            self.origin = AllowedOrigin.create(origin=f"https://origin-{label}.example")
            self.job = Job.create(kind="reload", tracker=self.tracker, state="done")
            # Schedules belong to cloned trackers only.
            self.clone = Tracker.create(name=f"Clone {label}", source_url="http://127.0.0.1:9",
                                        remote_tracker_id=1, protocol="B")

    def values(self, rule):
        tracker = self.clone if rule.endpoint.startswith("tikisync.schedule") else self.tracker
        by_name = {"tracker_id": tracker.id, "field_id": self.field.id,
                   "item_id": self.item.id, "user_id": self.user.id, "token_id": self.token.id,
                   "cred_id": self.credential.id, "origin_id": self.origin.id,
                   "job_id": self.job.id}
        return {name: by_name[name] for name in rule.arguments}


class World:
    def __init__(self, app):
        self.app = app
        with database.connection_context():
            self.users = {role: make_user(role, role) for role in ROLES}
        self.made = 0

    def objects(self):
        """Fresh rows, and site settings back to their defaults: another test's examples may
        have switched "Synchronize remote trackers" off, which would refuse the clone pages."""
        with database.connection_context():
            Setting.delete().execute()
        self.made += 1
        return Objects(str(self.made))

    def client(self, role):
        client = self.app.test_client()
        if role is not None:
            Auth(client, self.users).become(role)
        return client

    def target(self, endpoint, method, objects):
        rule = next(r for r in self.app.url_map.iter_rules()
                    if r.endpoint == endpoint and method in r.methods)
        return url(self.app, endpoint, **objects.values(rule))


@pytest.fixture(scope="module")
def world(tmp_path_factory, server_db_url):
    folder = tmp_path_factory.mktemp("forms")
    app = make_app(module_db_url(folder, server_db_url), folder)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must be the 500 a user would see
    yield World(app)
    if not database.is_closed():
        database.close()


def snapshot():
    """Every row (the sign-in throttle aside: counting a failed sign-in is its job)."""
    with database.connection_context():
        return {model.__name__: sorted(map(repr, model.select().tuples()))
                for model in ALL_MODELS if model is not SignInThrottle}


def send(world, client, endpoint, method, target, data):
    if method == "GET":
        response = client.get(target, query_string=data)
    else:
        response = client.post(target, data=data)
    response.get_data()
    response.close()
    return response


def check_answer(tally, response):
    """No 500 and no traceback; returns the body."""
    tally["cases"] += 1
    body = response.get_data(as_text=True)
    if response.status_code >= 500:
        tally["errors_500"] += 1
    assert response.status_code < 500, body[-2000:]
    assert "Traceback (most recent call last)" not in body
    return body


def says_what_is_wrong(response):
    page = soup(response)
    return bool(page.select(".ts-error, .ts-msg-error, [role=alert], .ts-problem")) or \
        response.status_code == 400 and page.find("h1") is not None


def form_id(case):
    form, endpoint, method, _ = case
    return f"{form.__name__}-{endpoint.split('.')[1]}-{method}"


values = st.one_of(hostile, st.lists(hostile, min_size=2, max_size=3))


@pytest.mark.parametrize("case", FORM_ROUTES, ids=form_id)
def test_anything_sent_to_a_form_gets_a_page_never_a_500(world, case):
    form, endpoint, method, role = case
    names = field_names(form) + EXTRA.get(endpoint, []) + ["unexpected", "csrf_token"]
    objects = world.objects()
    target = world.target(endpoint, method, objects)
    with tallied("input", "forms: anything in any field", f"{len(FORM_ROUTES)} form routes") \
            as tally:
        @examples(4, 80)
        @given(st.dictionaries(st.sampled_from(names), values, max_size=len(names)))
        @example({name: "a\x00b" for name in names})  # PostgreSQL cannot store a NUL
        @example({name: "9" * 4300 for name in names})
        @example({name: str(2**63) for name in names})
        @example({name: "\u00b2" for name in names})
        def run(data):
            data.pop("csrf_token", None)  # the client adds the right one, as a browser would
            response = send(world, world.client(role), endpoint, method, target, data)
            check_answer(tally, response)
            assert response.status_code in (200, 302, 303, 400, 403, 404, 409, 413, 422, 429)

        run()


# --- invalid input: one rule broken, nothing changes ----------------------------------------

def too_long(limit):
    """Text of limit + 1 to limit + 30 characters (some of them beyond one byte)."""
    return st.tuples(st.integers(1, 30), st.sampled_from(["a", "\u00e9", "\U0001f600", "ab c"])) \
        .map(lambda t: (t[1] * (limit + t[0]))[:limit + t[0]])


def breakers(form_class):
    """name -> a strategy of values that break that field's own rules."""
    found = {}
    for name, unbound in unbound_fields(form_class).items():
        validators = unbound.kwargs.get("validators") or []
        choices = unbound.kwargs.get("choices")
        options = []
        for validator in validators:
            if isinstance(validator, DataRequired):
                options.append(st.sampled_from(["", " ", "\t\r\n"]))
            elif isinstance(validator, Length) and validator.max and validator.max > 0:
                options.append(too_long(validator.max))
            elif isinstance(validator, Length) and validator.min and validator.min > 1:
                options.append(st.text("abc9", min_size=1, max_size=validator.min - 1))
            elif isinstance(validator, Regexp) and validator.regex.pattern == ft.PERM_NAME.pattern:
                options.append(st.sampled_from(["1st", "a-b", "two words", "caf\u00e9",
                                                "x" * 101, "_x"]))
        static = issubclass(unbound.field_class, SelectField) and not issubclass(
            unbound.field_class, SelectMultipleField) and unbound.kwargs.get(
            "validate_choice", True)
        if static:
            taken = set() if choices is None or callable(choices) else {
                getattr(c, "value", c[0] if isinstance(c, tuple) else c) for c in choices}
            options.append(hostile.map(lambda v: "no such " + v).filter(
                lambda v, taken=taken: v not in taken))
        if name == "options_json":
            options.append(st.sampled_from(["{", "[1]", "1", "nope", '{"a": }']))
        if options:
            found[name] = st.one_of(options)
    if form_class is ItemFormBase:
        found.update({"v_title": st.sampled_from(["", "  "]),
                      "v_amount": st.sampled_from(["abc", "1,5", "\u0663", "1e", "--1"]),
                      "v_contact": st.sampled_from(["not an email", "a@", "@b.c"]),
                      "v_due": st.sampled_from(["2024-02-30", "tomorrow", "9" * 5000,
                                                "\u0663\u0663"]),
                      "v_homepage": st.sampled_from(["not a url", "javascript:alert(1)"])})
    return found


BREAKABLE = [case for case in FORM_ROUTES if breakers(case[0])]


@pytest.mark.parametrize("case", BREAKABLE, ids=form_id)
def test_a_broken_rule_is_refused_says_why_and_changes_nothing(world, case):
    form, endpoint, method, role = case
    rules = breakers(form)
    names = field_names(form)
    objects = world.objects()
    target = world.target(endpoint, method, objects)
    plausible = {"name": "A name", "username": "someone", "password": "long enough pw",
                 "role": "viewer", "v_title": "A title", "type": "t", "url": "https://x.example",
                 "identifier": "an-id", "method": "basic", "generation": "auto"}
    with tallied("input", "forms: a broken rule changes nothing",
                 f"{len(BREAKABLE)} form routes; lost = rows changed") as tally:
        @examples(5, 60)
        @given(st.sampled_from(sorted(rules)).flatmap(
            lambda broken: st.tuples(st.just(broken), rules[broken],
                                     st.dictionaries(st.sampled_from(names), hostile))))
        def run(example):
            broken, bad, others = example
            data = {**{k: v for k, v in plausible.items() if k in names}, **others,
                    broken: bad}
            before = snapshot()
            response = send(world, world.client(role), endpoint, method, target, data)
            check_answer(tally, response)
            changed = snapshot() != before
            tally["changed"] += changed
            clear = says_what_is_wrong(response)
            tally["unclear"] += not clear
            assert response.status_code in (400, 422), (broken, bad, response.status_code)
            assert not changed, (broken, bad)
            assert clear, (broken, response.get_data(as_text=True)[:3000])

        run()
