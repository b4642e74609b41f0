"""The wheel, as a new user gets it (issue 14): built from the checkout (the sdist, then the
wheel from the sdist), installed with its [server] extra into a fresh virtualenv in a temporary
folder outside the checkout. From that install only:
- the standalone app is a master: `tikisync init`, users, a tracker, served by
  `gunicorn 'tikisync_web:create_app()'`;
- examples/portal, copied beside it, mounts the plugin at /sync under gunicorn; through the
  portal a person signs in (the portal's page, never a second one of ours), every page under
  /sync answers (no 4xx or 5xx, htmx served, the portal's layout and template override used),
  and an item edited there is pushed to the master.
"""
import re
import shutil
import tarfile
import zipfile
from collections import deque
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from tests.support.installed import ROOT, Venv, build_dists
from tests.support.waiting import wait_until
from tikisync_web import __version__

pytestmark = [pytest.mark.slow, pytest.mark.once, pytest.mark.twoinstance]

PASSWORD = "master-admin-pw"
PORTAL_PASSWORD = "portal-demo"  # examples/portal's demo accounts
LINKS = ("href", "src", "hx-get")


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheel")
    assert not folder.resolve().is_relative_to(ROOT), "the install must be outside the checkout"
    return folder


@pytest.fixture(scope="module")
def dists(place):
    return build_dists(place / "dist")


@pytest.fixture(scope="module")
def venv(place, dists):
    return Venv.create(place / "venv", dists.wheel, extras="server")


@pytest.fixture(scope="module")
def master(place, venv):
    """The standalone app from the wheel, with a tracker of two items and an API token."""
    folder = place / "master"
    folder.mkdir()
    env = {"TIKISYNC_DATABASE": f"sqlite:///{folder}/tikisync.db",
           "TIKISYNC_SECRET_KEY": "master-secret", "TIKISYNC_INSTANCE": str(folder / "inst")}
    venv.run("tikisync", "init", cwd=folder, env=env)
    venv.run("tikisync", "user", "add", "admin", "--role", "admin", "--password", PASSWORD,
             cwd=folder, env=env)
    tracker = json_of(venv.run("tikisync", "tracker", "create", "Requests", "--json",
                               cwd=folder, env=env))["id"]
    venv.run("tikisync", "field", "add", tracker, "title", "t", "Title", "--json", cwd=folder,
             env=env)
    for title in ("Printer on floor 2", "New laptop for Ana"):
        venv.run("tikisync", "item", "add", tracker, "--set", f"title={title}", "--json",
                 cwd=folder, env=env)
    token = venv.run("tikisync", "token", "add", "admin", cwd=folder, env=env).strip()
    server = venv.serve("tikisync_web:create_app()", cwd=folder, env=env, name="master")
    server.tracker, server.token = tracker, token
    yield server
    server.stop()


@pytest.fixture(scope="module")
def portal(place, venv):
    """examples/portal copied out of the checkout, served by gunicorn from the wheel."""
    folder = place / "portal"
    shutil.copytree(ROOT / "examples" / "portal", folder,
                    ignore=shutil.ignore_patterns("__pycache__", "instance"))
    env = {"PORTAL_SECRET_KEY": "portal-secret", "PORTAL_INSTANCE": str(folder / "instance"),
           "PORTAL_TIKISYNC_DATABASE": f"sqlite:///{folder}/sync.db",
           "PORTAL_TIKISYNC_POLL_SECONDS": "0.2"}
    server = venv.serve("portal:create_portal()", cwd=folder, env=env, name="portal")
    server.folder, server.cli_env = folder, env
    yield server
    server.stop()


def json_of(text):
    import json

    return json.loads(text)


def test_the_dists_carry_templates_static_htmx_and_one_version(dists):
    wheel = zipfile.ZipFile(dists.wheel).namelist()
    assert f"tikisync_web-{__version__}-py3-none-any.whl" == dists.wheel.name
    for name in ("tikisync_web/templates/tikisync/layout.html",
                 "tikisync_web/templates/tikisync/cookie_refused.html",
                 "tikisync_web/static/tikisync/tikisync.css",
                 "tikisync_web/static/tikisync/htmx.min.js"):
        assert name in wheel, name
    assert not [n for n in wheel if n.endswith("_build.py")]  # the build hook stays behind
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel)
    with zipfile.ZipFile(dists.wheel) as archive:
        meta = archive.read(f"tikisync_web-{__version__}.dist-info/METADATA").decode()
        htmx = archive.read("tikisync_web/static/tikisync/htmx.min.js")
    assert f"Version: {__version__}" in meta and "License-Expression: MIT" in meta
    assert "Provides-Extra: server" in meta
    assert re.search(r"Requires-Dist: gunicorn.*extra == \"server\"", meta)
    assert htmx == (ROOT / "node_modules/htmx.org/dist/htmx.min.js").read_bytes()
    assert b'version:"2.0.11"' in htmx
    sdist = tarfile.open(dists.sdist).getnames()
    top = dists.sdist.name.removesuffix(".tar.gz")
    for name in ("templates/tikisync/layout.html", "static/tikisync/htmx.min.js", "LICENSE",
                 "CHANGELOG.md", "package-lock.json", "examples/portal/portal.py",
                 "tikisync_web/_build.py"):
        assert f"{top}/{name}" in sdist, name


def test_installed_package_is_self_contained(venv, place):
    where = venv.run("python", "-c", (
        "import importlib.metadata as m, tikisync_web\n"
        "from tikisync_web.resources import folder\n"
        "print(tikisync_web.__file__, folder('templates'), folder('static'),\n"
        "      tikisync_web.__version__, m.version('tikisync-web'))"), cwd=place).split()
    assert all(path.startswith(str(venv.folder)) for path in where[:3]), where
    assert where[3] == where[4] == __version__


def test_the_portal_from_the_wheel_signs_in_crawls_edits_and_pushes(venv, master, portal):
    # The portal's sync needs a credential for the master, the sync switch, and a clone.
    web = requests.Session()
    first = web.get(portal.url + "/sync/", timeout=10)
    assert urlsplit(first.url).path == "/login"  # the portal's sign-in, not ours
    assert BeautifulSoup(first.text, "html.parser").find("input", attrs={"name": "login"})
    sign_in = submit(web, first, {"login": "alice", "password": PORTAL_PASSWORD})
    assert urlsplit(sign_in.url).path == "/sync/" and sign_in.status_code == 200
    settings = web.get(portal.url + "/sync/admin/settings", timeout=10)
    assert submit(web, settings, {"remote_sync": "y"}).status_code == 200
    cli = ("flask", "--app", "portal:create_portal()", "tikisync")
    venv.run(*cli, "dsn", "add", "master", master.url, "--method", "bearer", "--token",
             master.token, "--allow-http", cwd=portal.folder, env=portal.cli_env)
    clone = json_of(venv.run(*cli, "clone", master.url, str(master.tracker), "--json",
                             cwd=portal.folder, env=portal.cli_env))
    tracker = clone["tracker"]
    venv.run(*cli, "reload", str(tracker), cwd=portal.folder, env=portal.cli_env)
    items = json_of(venv.run(*cli, "items", str(tracker), "--json", cwd=portal.folder,
                             env=portal.cli_env))
    assert sorted(i["fields"]["title"] for i in items) == ["New laptop for Ana",
                                                           "Printer on floor 2"]

    visited = crawl(web, portal.url, "/sync/")
    assert all(status < 400 for _, status, _ in visited), [v for v in visited if v[1] >= 400]
    paths = {urlsplit(target).path for target, _, _ in visited}
    assert {f"/sync/trackers/{tracker}/items", f"/sync/trackers/{tracker}/sync",
            "/sync/admin/users", "/sync/credentials"} <= paths
    htmx = web.get(portal.url + "/sync/static/tikisync/htmx.min.js", timeout=10)
    assert htmx.status_code == 200
    assert htmx.content == (ROOT / "node_modules/htmx.org/dist/htmx.min.js").read_bytes()
    pages = [page for _, _, page in visited if page is not None]
    assert all(page.select_one(".portal-header") for page in pages)  # the portal's layout
    assert all(page.select_one("nav.portal-subnav") for page in pages)  # its _nav.html
    # Never a second sign-in inside the portal: our sign-in page sends people to the portal's.
    assert "/sync/login" not in paths
    anonymous = requests.get(portal.url + "/sync/login", timeout=10)
    assert urlsplit(anonymous.url).path == "/login"

    # Edit an item in the portal, push it, and the master holds the new value.
    item = next(i for i in items if i["fields"]["title"] == "Printer on floor 2")
    edit = web.get(f"{portal.url}/sync/items/{item['id']}/edit", timeout=10)
    saved = submit(web, edit, {"v_title": "Printer on floor 2 (fixed)"})
    assert saved.status_code == 200 and urlsplit(saved.url).path == f"/sync/items/{item['id']}"
    preview = web.get(f"{portal.url}/sync/trackers/{tracker}/push",
                      params={"items": item["id"]}, timeout=10)
    assert "Printer on floor 2 (fixed)" in preview.text
    job = submit(web, preview, {}, form=f"/sync/trackers/{tracker}/push")
    assert job.status_code == 200

    def master_title():
        answer = requests.get(f"{master.url}/tiki-api.php",
                              params={"route": f"trackers/{master.tracker}", "format": "raw"},
                              headers={"Authorization": f"Bearer {master.token}"}, timeout=10)
        titles = {row["itemId"]: row["fields"]["title"] for row in answer.json()["result"]}
        return titles.get(item["remote_id"]) == "Printer on floor 2 (fixed)"

    wait_until(master_title, tries=150, pause=0.2, what="the push to reach the master",
               details=portal.log_tail)


def submit(web, page, values, form=None):
    """Post a form of `page` as a browser would: its own inputs, `values` changed."""
    html = BeautifulSoup(page.text, "html.parser")
    forms = [f for f in html.find_all("form", attrs={"method": "post"})
             if form is None or f.get("action", "") == form]
    chosen = next(f for f in forms if "portal-who" not in (f.get("class") or []))
    data = {}
    for field in chosen.find_all(("input", "textarea", "select")):
        name = field.get("name")
        if not name or field.get("type") in ("submit", "button"):
            continue
        if field.get("type") in ("checkbox", "radio") and not field.has_attr("checked"):
            continue
        if field.name == "select":
            option = field.find("option", selected=True) or field.find("option")
            data[name] = option.get("value", option.get_text()) if option else ""
        elif field.name == "textarea":
            data[name] = field.get_text()
        else:
            data[name] = field.get("value", "")
    data.update(values)
    return web.post(urljoin(page.url, chosen.get("action") or page.url), data=data, timeout=30)


def crawl(web, base, prefix, limit=300):
    """Every page reachable by links under `prefix` (one URL per path shape and set of query
    keys): [(url, status, parsed page or None)]."""
    queue, seen, visited = deque([base + prefix]), set(), []
    while queue:
        target = queue.popleft()
        parts = urlsplit(target)
        key = (re.sub(r"\d+", "N", parts.path), frozenset(k for k, _ in parse_qsl(parts.query)))
        if key in seen:
            continue
        seen.add(key)
        answer = web.get(target, timeout=30)
        page = None
        if answer.headers.get("Content-Type", "").startswith("text/html"):
            page = BeautifulSoup(answer.text, "html.parser")
            for tag in page.find_all(True):
                if tag.name == "form":
                    continue  # a form's URL needs its inputs; links are what a click loads
                for attribute in LINKS:
                    link = urljoin(answer.url, tag.get(attribute) or "")
                    if tag.get(attribute) and urlsplit(link).path.startswith(prefix) \
                            and link.startswith(base):
                        queue.append(link.split("#")[0])
        visited.append((target, answer.status_code, page))
        assert len(visited) < limit, "the crawl does not end"
    return visited
