"""Embedding: the app at "/", under url_prefix="/sync" in a host Flask app, under a WSGI script
root, and both at once. A datasette-style crawl follows every link an admin can reach and checks
that every href, src, form action, hx-* URL, asset, redirect and HX-Location carries the prefix
and names a real route. Also: the host keeps its own routes, hooks, 404 pages, config and
templates; our full-page / fragment rules and the Vary header."""
from collections import deque
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask, render_template_string, url_for
from werkzeug.exceptions import HTTPException

from tests.support import seed
from tests.support.apps import PASSWORD, Auth, Client
from tests.support.pages import soup
from tikisync_web import TikiSync, accounts
from tikisync_web.db import database
from tikisync_web.models import Field, Tracker

URL_ATTRIBUTES = ("href", "src", "action", "formaction", "hx-get", "hx-post", "hx-put",
                  "hx-patch", "hx-delete")
GET_ATTRIBUTES = ("href", "src", "hx-get")


class Mount:
    """One way of hosting: an app, the script root it is served under, and its URL prefix."""

    def __init__(self, app, script_root="", url_prefix=""):
        self.app, self.script_root = app, script_root
        self.prefix = script_root + url_prefix  # every URL of ours starts with it
        self.base_url = "http://localhost" + script_root + "/"
        self.client = app.test_client()

    def url(self, endpoint, **values):
        with self.app.test_request_context(base_url=self.base_url):
            return url_for(endpoint, **values)

    def open(self, target, method="GET", **kwargs):
        """Request a URL as found in a page (it includes the script root)."""
        parts = urlsplit(target)
        assert parts.path.startswith(self.script_root + "/"), target
        path = parts.path[len(self.script_root):]
        response = self.client.open(path, method=method, base_url=self.base_url,
                                    query_string=parts.query, **kwargs)
        response.get_data()
        response.close()
        return response

    def get(self, target, **kwargs):
        return self.open(target, **kwargs)

    def post(self, target, **kwargs):
        return self.open(target, method="POST", **kwargs)

    def endpoint(self, target, method="GET"):
        """The endpoint a URL of a page names, or an assertion error saying why it is wrong."""
        parts = urlsplit(target)
        assert not parts.scheme and not parts.netloc, f"absolute URL {target!r}"
        assert parts.path == self.prefix + "/" or parts.path.startswith(self.prefix + "/"), (
            f"{target!r} does not start with {self.prefix + '/'!r}")
        adapter = self.app.url_map.bind("localhost", script_name=self.script_root or None)
        try:
            endpoint, _ = adapter.match(parts.path[len(self.script_root):], method=method)
        except HTTPException as exc:
            raise AssertionError(f"{target!r} ({method}) is no route: {exc}") from None
        assert endpoint.startswith("tikisync"), f"{target!r} leads to the host's {endpoint}"
        return endpoint


def build_host(db_url, tmp_path, url_prefix="/sync", templates=None, **config):
    """A host site of its own (a home page, a 404 page, its own config) that mounts us."""
    host = Flask("host_site", root_path=str(tmp_path),
                 template_folder=str(templates) if templates else None)
    host.config.update({"SECRET_KEY": "host-secret", "TESTING": True,
                        "TIKISYNC_DATABASE": db_url, "TIKISYNC_PAGE_SIZE": 20, **config})
    host.test_client_class = Client

    @host.route("/")
    def home():
        return render_template_string(
            "<p>host home</p>{% if tikisync_csrf_token is defined %}LEAK{% endif %}"
            "{% if current_user is defined %}LEAK{% endif %}")

    @host.errorhandler(404)
    def not_found(error):
        return "host not found", 404

    TikiSync().init_app(host, url_prefix=url_prefix)
    return host


@pytest.fixture
def data(app, users):
    """Something on every page: a tracker with typed fields and three pages of items, an item
    with every value, an API token."""
    tracker = seed.make_tracker()
    seed.bulk_items(tracker, 45)
    item = seed.add_item(tracker, title="Full", contact="a@example.org", amount="3",
                         priority="2", due="2024-01-02", done="y", colours="red",
                         homepage="https://example.org/")
    with database.connection_context():
        accounts.create_token(users["admin"], "crawl")
        field = Field.get(Field.tracker == tracker, Field.perm_name == "amount")
    return {"tracker": tracker, "item": item, "field": field, "user": users["editor"]}


MOUNTS = ["root", "prefix", "script_root", "script_root+prefix"]


@pytest.fixture(params=MOUNTS)
def mount(request, app, db_url, tmp_path):
    if request.param == "root":
        return Mount(app)
    if request.param == "prefix":
        return Mount(build_host(db_url, tmp_path), url_prefix="/sync")
    if request.param == "script_root":
        return Mount(app, script_root="/sub")
    return Mount(build_host(db_url, tmp_path), script_root="/sub", url_prefix="/sync")


def sign_in(mount, users, role="admin"):
    Auth(mount.client, users).become(role)


def urls_of(page):
    """(tag, attribute, URL) of every URL-bearing attribute of a page."""
    for tag in page.find_all(True):
        for attribute in URL_ATTRIBUTES:
            if tag.has_attr(attribute) and tag[attribute] not in ("", "#"):
                yield tag, attribute, tag[attribute]


def check_page(mount, response, where):
    """Every URL of a page carries the prefix and names one of our routes; returns the GET ones.
    No script is inline (handlers, <script> bodies): a host's script-src 'self' CSP holds."""
    page = soup(response)
    inline = [f"<{tag.name} {name}>" for tag in page.find_all(True) for name in tag.attrs
              if name.lower().startswith("on")]
    inline += [f"<script>{script.string[:40]}" for script in page.find_all("script")
               if (script.string or "").strip()]
    assert not inline, f"on {where}: inline script {inline}"
    found = []
    for tag, attribute, target in urls_of(page):
        if target.startswith("#"):
            continue
        method = "GET"
        if attribute in ("hx-post", "hx-put", "hx-patch", "hx-delete"):
            method = attribute[3:].upper()
        elif attribute in ("action", "formaction"):
            form = tag if tag.name == "form" else tag.find_parent("form")
            method = (form.get("method") or "get").upper()
        try:
            endpoint = mount.endpoint(target, method)
        except AssertionError as exc:
            raise AssertionError(f"on {where}: <{tag.name} {attribute}>: {exc}") from None
        if attribute in GET_ATTRIBUTES and tag.name != "form":
            found.append((endpoint, target))  # what a click loads (a form needs its inputs)
    for location in (response.headers.get("Location"), response.headers.get("HX-Location")):
        if location:
            mount.endpoint(location)
            next_page = dict(parse_qsl(urlsplit(location).query)).get("next")
            if next_page:
                mount.endpoint(next_page)
    return found


def crawl(mount, start, limit=400):
    """Visit every page reachable from `start` by links (one URL per endpoint and set of query
    keys, so a long list's pages do not all need visiting); returns the pages visited."""
    queue, seen, visited = deque(start), set(), []
    while queue:
        target = queue.popleft()
        endpoint = mount.endpoint(target)
        query_keys = frozenset(k for k, _ in parse_qsl(urlsplit(target).query))
        key = (endpoint, urlsplit(target).path if endpoint.endswith("static") else "", query_keys)
        if key in seen:
            continue
        seen.add(key)
        response = mount.get(target)
        visited.append((endpoint, target, response.status_code))
        assert response.status_code == 200, f"{target} -> {response.status_code}"
        if response.mimetype != "text/html":
            continue
        assert "Vary" in response.headers, target
        assert {"HX-Request", "HX-Target"} <= set(response.vary), target
        for _endpoint, link in check_page(mount, response, target):
            queue.append(link)
        assert len(visited) < limit, "the crawl does not end"
    return visited


def test_crawl_every_page_an_admin_reaches(mount, data, users):
    sign_in(mount, users)
    tracker = data["tracker"]
    start = [mount.url("tikisync.dashboard"),
             mount.url("tikisync.items", tracker_id=tracker.id, q="item", sort="amount",
                       dir="desc", status="o", page=2)]
    visited = crawl(mount, start)
    reached = {endpoint for endpoint, _, _ in visited}
    expected = {"tikisync.dashboard", "tikisync.tracker_new", "tikisync.tracker_edit",
                "tikisync.tracker_delete", "tikisync.fields", "tikisync.field_new",
                "tikisync.field_edit", "tikisync.field_delete", "tikisync.items",
                "tikisync.item_new", "tikisync.item", "tikisync.item_edit",
                "tikisync.item_delete", "tikisync.users", "tikisync.user_edit",
                "tikisync.tokens", "tikisync.settings", "tikisync.static"}
    assert expected <= reached, expected - reached
    # The assets are ours, served under the prefix: the stylesheet and htmx itself.
    assets = {target.rsplit("/", 1)[1] for endpoint, target, _ in visited
              if endpoint == "tikisync.static"}
    assert {"tikisync.css", "htmx.min.js"} <= assets


def test_pages_outside_the_link_graph_carry_the_prefix(mount, data, users):
    """Login, error pages, forms re-rendered with errors, fragments, redirects."""
    tracker, item, field = data["tracker"], data["item"], data["field"]
    # Anonymous: redirected to the login page, which knows where to come back to.
    items_url = mount.url("tikisync.items", tracker_id=tracker.id, q="item")
    redirect = mount.get(items_url)
    assert redirect.status_code == 302
    check_page(mount, redirect, "anonymous redirect")
    came_from = dict(parse_qsl(urlsplit(redirect.location).query))["next"]
    assert came_from == items_url
    hx = mount.get(items_url, headers={"HX-Request": "true"})
    assert hx.status_code == 401
    check_page(mount, hx, "htmx 401")
    login = mount.get(redirect.location)
    assert login.status_code == 200
    check_page(mount, login, "login")
    wrong = mount.post(redirect.location, data={"username": "admin", "password": "nope"})
    assert wrong.status_code == 422
    check_page(mount, wrong, "login 422")
    signed_in = mount.post(redirect.location, data={"username": "admin", "password": PASSWORD})
    assert signed_in.status_code == 303
    assert signed_in.location == items_url  # back where the user was, prefix included
    check_page(mount, signed_in, "login redirect")

    pages = {
        "404": mount.get(mount.url("tikisync.item", item_id=99999)),
        "400 csrf": mount.post(mount.url("tikisync.tracker_new"), data={"csrf_token": "x"}),
        "item 422": mount.post(mount.url("tikisync.item_new", tracker_id=tracker.id),
                               data={"v_title": "", "status": "o"}),
        "edit 422": mount.post(mount.url("tikisync.item_edit", item_id=item.id),
                               data={"v_title": "x", "v_amount": "y", "status": "o"}),
        "field 422": mount.post(mount.url("tikisync.field_new", tracker_id=tracker.id),
                                data={"name": ""}),
        "tracker 422": mount.post(mount.url("tikisync.tracker_new"), data={"name": ""}),
        "user 422": mount.post(mount.url("tikisync.user_create"), data={"username": ""}),
        "token created": mount.post(mount.url("tikisync.token_create"),
                                    data={"username": "admin", "label": "x"}),
        "table fragment": mount.get(mount.url("tikisync.items", tracker_id=tracker.id, page=2),
                                    headers={"HX-Request": "true", "HX-Target": "item-table"}),
        "field fragment": mount.post(mount.url("tikisync.field_move", field_id=field.id),
                                     data={"direction": "up"},
                                     headers={"HX-Request": "true", "HX-Target": "field-list"}),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 400, 404, 422), (name, response.status_code)
        assert response.mimetype == "text/html", name
        assert {"HX-Request", "HX-Target"} <= set(response.vary), name
        check_page(mount, response, name)
    assert soup(pages["table fragment"]).select("a[hx-get]")  # the fragment has its own links

    # Every redirect after an action stays under the prefix.
    actions = [
        mount.post(mount.url("tikisync.tracker_new"), data={"name": "Another"}),
        mount.post(mount.url("tikisync.item_new", tracker_id=tracker.id),
                   data={"v_title": "new", "status": "o"}),
        mount.post(mount.url("tikisync.item_edit", item_id=item.id),
                   data={"v_title": "edited", "status": "o"}),
        mount.post(mount.url("tikisync.field_move", field_id=field.id), data={"direction": "up"}),
        mount.post(mount.url("tikisync.settings"), data={"remote_sync": "y"}),
        mount.post(mount.url("tikisync.logout")),
    ]
    for response in actions:
        assert response.status_code == 303, response.status_code
        check_page(mount, response, response.location)

    # Viewers meet a 403 page, also under the prefix.
    sign_in(mount, users, "viewer")
    forbidden = mount.get(mount.url("tikisync.users"))
    assert forbidden.status_code == 403
    check_page(mount, forbidden, "403")


# --- the host stays the host ------------------------------------------------------------------

def test_host_keeps_its_routes_hooks_and_404_pages(db_url, tmp_path, app, users):
    host = Flask("plain_host", root_path=str(tmp_path))
    host.config.update(SECRET_KEY="s", TESTING=True, TIKISYNC_DATABASE=db_url)

    @host.route("/")
    def home():
        return render_template_string(
            "<p>host home</p>{% if tikisync_csrf_token is defined or current_user is defined "
            "or htmx is defined %}LEAK{% endif %}")

    @host.errorhandler(404)
    def not_found(error):
        return "host not found", 404

    registries = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs",
                  "template_context_processors", "url_value_preprocessors",
                  "url_default_functions")
    app_wide = {name: list(getattr(host, name).get(None, [])) for name in registries}
    handlers = dict(host.error_handler_spec.get(None, {}))
    TikiSync().init_app(host, url_prefix="/sync")
    assert {name: list(getattr(host, name).get(None, [])) for name in registries} == app_wide
    assert dict(host.error_handler_spec.get(None, {})) == handlers
    assert not hasattr(host, "htmx")  # flask-htmx is not installed on the host either
    assert isinstance(host.extensions["tikisync"], TikiSync)

    client = host.test_client()
    front = client.get("/")
    assert front.get_data(as_text=True) == "<p>host home</p>"
    assert "HX-Request" not in front.vary and "Content-Security-Policy" not in front.headers
    for path in ("/nope", "/sync/nope", "/sync/trackers/x/items"):
        response = client.get(path)
        assert (response.status_code, response.get_data(as_text=True)) == (404, "host not found")
    with host.test_request_context():
        assert url_for("tikisync.dashboard") == "/sync/"
        assert url_for("tikisync.static", filename="tikisync/tikisync.css") == (
            "/sync/static/tikisync/tikisync.css")
    # Our own missing object is our page, with our layout, under the prefix.
    Auth(client, users).become("viewer")
    ours = client.get("/sync/items/12345")
    assert ours.status_code == 404
    assert "There is no item 12345" in ours.get_data(as_text=True)


def test_host_config_values_win_over_our_defaults(db_url, tmp_path, app, data, users):
    host = build_host(db_url, tmp_path, TIKISYNC_PAGE_SIZE=5, TIKISYNC_POLL_SECONDS=7)
    assert host.config["TIKISYNC_PAGE_SIZE"] == 5
    assert host.config["TIKISYNC_POLL_SECONDS"] == 7
    assert host.config["TIKISYNC_BASE_TEMPLATE"] == "tikisync/layout.html"  # defaults fill gaps
    client = host.test_client()
    Auth(client, users).become("viewer")
    with host.test_request_context():
        listing = client.get(url_for("tikisync.items", tracker_id=data["tracker"].id))
    assert len(soup(listing).select("#item-table tbody tr")) == 5


def test_a_host_template_overrides_ours(db_url, tmp_path, app, data, users):
    templates = tmp_path / "host_templates"
    (templates / "tikisync").mkdir(parents=True)
    (templates / "tikisync" / "_item_table.html").write_text(
        '<div id="item-table"><p class="host-table">{{ total }} items, the host way</p></div>')
    (templates / "tikisync" / "dashboard.html").write_text(
        "{% extends tikisync_base_template %}{% block content %}"
        "<h1>Host dashboard</h1>{% endblock %}")
    host = build_host(db_url, tmp_path, templates=templates)
    client = host.test_client()
    Auth(client, users).become("viewer")
    with host.test_request_context():
        items_url = url_for("tikisync.items", tracker_id=data["tracker"].id)
        dashboard_url = url_for("tikisync.dashboard")
    full = soup(client.get(items_url))
    assert full.select_one(".host-table").get_text() == "46 items, the host way"
    assert full.select_one("form[role=search]") is not None  # the rest of the page is ours
    fragment = soup(client.get(items_url, headers={"HX-Request": "true",
                                                   "HX-Target": "item-table"}))
    assert fragment.find(True)["id"] == "item-table" and fragment.select_one(".host-table")
    assert soup(client.get(dashboard_url)).find("h1").get_text() == "Host dashboard"


def test_a_host_layout_replaces_ours(db_url, tmp_path, app, data, users):
    templates = tmp_path / "host_templates"
    templates.mkdir()
    (templates / "host_layout.html").write_text(
        "<!doctype html><html><head><title>{% block title %}{% endblock %} | Intranet</title>"
        "{% include 'tikisync/_head.html' %}{% block head %}{% endblock %}</head>"
        "<body><nav id='intranet-nav'>Intranet</nav><main>{% block content %}{% endblock %}</main>"
        "</body></html>")
    host = build_host(db_url, tmp_path, templates=templates,
                      TIKISYNC_BASE_TEMPLATE="host_layout.html")
    client = host.test_client()
    Auth(client, users).become("admin")
    with host.test_request_context():
        page = soup(client.get(url_for("tikisync.item", item_id=data["item"].id)))
        css = url_for("tikisync.static", filename="tikisync/tikisync.css")
    assert page.select_one("#intranet-nav") is not None
    assert page.title.get_text() == f"Item #{data['item'].id} · Bugs | Intranet"
    assert page.select_one("main h2").get_text() == f"Item #{data['item'].id}"
    assert css in [link["href"] for link in page.select("link[rel=stylesheet]")]


def test_assets_can_be_left_to_the_host(db_url, tmp_path, app, users):
    host = build_host(db_url, tmp_path, TIKISYNC_LOAD_ASSETS=False)
    client = host.test_client()
    with host.test_request_context():
        page = soup(client.get(url_for("tikisync.login")))
        css = url_for("tikisync.static", filename="tikisync/tikisync.css")
    assert [s.get("src") for s in page.find_all("script")] == []
    assert page.find("meta", attrs={"name": "htmx-config"}) is None
    assert [link["href"] for link in page.select("link[rel=stylesheet]")] == [css]
    # And by default they are ours.
    default = soup(build_host(db_url, tmp_path / "b").test_client().get("/sync/login"))
    assert [s["src"] for s in default.find_all("script")] == [
        "/sync/static/tikisync/htmx.min.js", "/sync/static/tikisync/tikisync.js"]


def test_htmx_is_served_from_our_static_folder(mount, users):
    response = mount.get(mount.url("tikisync.static", filename="tikisync/htmx.min.js"))
    assert response.status_code == 200, "static/tikisync/htmx.min.js is missing: run make"
    assert b"2.0.11" in response.data  # the pinned version, never another line


# --- full page or fragment --------------------------------------------------------------------

@pytest.mark.parametrize("headers, fragment", [
    ({}, False),
    ({"HX-Request": "true", "HX-Target": "item-table"}, True),
    ({"HX-Request": "true", "HX-Target": "item-table", "HX-Boosted": "true"}, False),
    ({"HX-Request": "true", "HX-Target": "item-table", "HX-History-Restore-Request": "true"},
     False),
    ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    ({"HX-Request": "true"}, False),
    ({"HX-Request": "true", "HX-Target": "tikisync"}, False),
    ({"HX-Target": "item-table"}, False),
])
def test_full_page_unless_htmx_asks_for_the_table(client, app, auth, data, headers, fragment):
    auth.become("viewer")
    with app.test_request_context():
        target = url_for("tikisync.items", tracker_id=data["tracker"].id, q="item", page=2)
    response = client.get(target, headers=headers)
    assert response.status_code == 200
    assert {"HX-Request", "HX-Target"} <= set(response.vary)
    page = soup(response)
    rows = page.select("#item-table tbody tr")
    assert len(rows) == 20 and rows[0].find_all("td")[1].get_text(strip=True) == "item 000020"
    if fragment:
        assert page.find("html") is None
        assert [el["id"] for el in page.find_all(True, recursive=False)] == ["item-table"]
    else:
        assert page.find("html") is not None and page.select_one("form[role=search]")


def test_field_list_fragment_only_for_its_target(client, app, auth, data):
    auth.become("admin")
    with app.test_request_context():
        target = url_for("tikisync.field_move", field_id=data["field"].id)
    full = client.post(target, data={"direction": "up"},
                       headers={"HX-Request": "true", "HX-Boosted": "true",
                                "HX-Target": "field-list"})
    assert full.status_code == 200 and soup(full).find("html") is not None
    part = client.post(target, data={"direction": "up"},
                       headers={"HX-Request": "true", "HX-Target": "field-list"})
    assert soup(part).find("html") is None
    with database.connection_context():
        fields = Tracker.get_by_id(data["tracker"].id).ordered_fields()
        assert [f.perm_name for f in fields][:3] == ["amount", "title", "contact"]


def test_a_host_without_secret_key_is_told_at_once(db_url, tmp_path, app):
    host = Flask("keyless_host", root_path=str(tmp_path))
    host.config.update(TIKISYNC_SECRET_KEY="only-for-stored-secrets", TIKISYNC_DATABASE=db_url)
    with pytest.raises(RuntimeError, match="needs the app's SECRET_KEY"):
        TikiSync().init_app(host, url_prefix="/sync")

