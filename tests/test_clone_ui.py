"""The clone wizard and the drift page over HTTP (Flask test client, fake master on loopback):
every step as a full page and as the htmx fragment, the no-credential warning, 401 and 403
shown in the page with the way to the credentials page, the preview, create, roles, CSRF and
the "Synchronize remote trackers" switch."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support import fake_master as fm
from tests.support.clone import LIMITED, LIMITED_PASSWORD, hidden_inputs, tiki9_master
from tests.support.pages import soup, url
from tests.support.sync import config
from tikisync_web import credentials as creds
from tikisync_web import settings
from tikisync_web.models import Field, Tracker

WIZARD = "clone-wizard"
HX = {"HX-Request": "true", "HX-Target": WIZARD}


@pytest.fixture
def admin(app, auth):
    auth.become("admin")
    return auth.client


def add_credential(app, master, identifier="master", method="bearer", username=fm.USER,
                   secret=None):
    secret = secret or (fm.TOKEN if method == "bearer" else fm.PASSWORD)
    with app.app_context():
        return creds.add(config(app), identifier=identifier, url=master.url, method=method,
                         username=username, secret=secret, allow_http=True)


@pytest.fixture
def master(app, make_master):
    master = make_master()
    add_credential(app, master)
    return master


def get(client, app, endpoint, htmx=False, **values):
    return client.get(url(app, endpoint, **values), headers=HX if htmx else {})


def wizard(response):
    page = soup(response)
    return page.find(id=WIZARD)


def credentials_links(app, node):
    target = url(app, "tikisync.credentials")
    return [a for a in node.find_all("a") if a["href"].split("#")[0] == target]


def test_every_step_is_a_full_page_or_the_wizard_fragment(app, admin, master):
    steps = [("tikisync.clone", {}),
             ("tikisync.clone_trackers", {"url": master.url}),
             ("tikisync.clone_preview", {"url": master.url, "tracker": 1})]
    for endpoint, values in steps:
        full = get(admin, app, endpoint, **values)
        assert full.status_code == 200, endpoint
        page = soup(full)
        assert page.find("html") is not None and page.find("nav") is not None
        assert page.find(id=WIZARD) is not None
        assert {"HX-Request", "HX-Target"} <= set(full.vary)
        part = get(admin, app, endpoint, htmx=True, **values)
        assert part.status_code == 200
        fragment = soup(part)
        assert fragment.find("html") is None and fragment.find("nav", class_="ts-nav") is None
        roots = [n for n in fragment.contents if getattr(n, "name", None)]
        assert [r.get("id") for r in roots] == [WIZARD], endpoint
        # Boosted requests and history restores get the full page (STYLE rule 2).
        for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
            again = admin.get(url(app, endpoint, **values), headers={**HX, **extra})
            assert soup(again).find("html") is not None


def test_step_one_offers_the_stored_credentials(app, admin, master):
    page = wizard(get(admin, app, "tikisync.clone"))
    form = page.find("form")
    assert form["action"] == url(app, "tikisync.clone_trackers") and form["method"] == "get"
    assert form["hx-get"] == form["action"] and form["hx-target"] == "#" + WIZARD
    select = form.find("select", {"name": "credential"})
    options = {o["value"]: o.text for o in select.find_all("option")}
    assert master.url in options["master"]
    # Picking the credential instead of typing its URL lists the same trackers.
    listed = wizard(get(admin, app, "tikisync.clone_trackers", credential="master"))
    assert "SyncDemo" in listed.find(id="remote-trackers").text


def test_trackers_step_lists_name_description_and_items(app, admin, master):
    page = wizard(get(admin, app, "tikisync.clone_trackers", url=master.url + "/"))
    rows = page.find(id="remote-trackers").find("tbody").find_all("tr")
    assert len(rows) == 1
    cells = [td.get_text(" ", strip=True) for td in rows[0].find_all("td")]
    assert cells[0].startswith("SyncDemo") and cells[1] == "Demo tracker for sync tests"
    assert cells[2] == "3"
    link = rows[0].find("a")
    assert link["href"] == url(app, "tikisync.clone_preview", url=master.url, tracker=1)
    assert link["hx-get"] == link["href"] and link["hx-push-url"] == "true"
    assert "with the credential master" in page.get_text(" ", strip=True)


def test_no_credential_is_a_warning_to_confirm_before_anything_is_asked(app, admin, make_master):
    other = make_master()
    with app.app_context():
        creds.add_origin(other.origin)
    response = get(admin, app, "tikisync.clone_trackers", url=other.url)
    assert response.status_code == 200
    page = wizard(response)
    assert page.find(id="clone-no-credential") is not None
    assert other.requests == []  # nothing was sent before the admin confirmed
    assert credentials_links(app, page)
    go_on = page.find("a", string="Continue without a credential")
    assert go_on["href"] == url(app, "tikisync.clone_trackers", url=other.url, anonymous="1")
    anonymous = wizard(admin.get(go_on["href"]))
    assert "anonymously" in anonymous.text and "sees no trackers" in anonymous.text
    assert other.requests  # now it was asked
    # The preview and create steps ask again without the confirmation.
    preview = wizard(get(admin, app, "tikisync.clone_preview", url=other.url, tracker=1))
    assert preview.find(id="clone-no-credential") is not None


def test_a_site_the_outbound_policy_refuses_is_explained(app, admin):
    response = get(admin, app, "tikisync.clone_trackers", url="https://tiki.example.invalid/tiki")
    assert response.status_code == 422
    problem = wizard(response).find(id="clone-problem")
    assert "not allowed" in problem.text and "Allowed remote sites" in problem.text
    assert [a["href"] for a in credentials_links(app, problem)] == [
        url(app, "tikisync.credentials") + "#origins"]
    form = wizard(response).find("form")
    assert form.find("input", {"name": "url"})["value"] == "https://tiki.example.invalid/tiki"


@pytest.mark.parametrize("typed, error", [("", "Type the master's URL"),
                                          ("ftp://example.org", "not an http"),
                                          ("https://tiki.example.org/tiki?x=1", "without ?query")])
def test_an_unusable_url_is_the_form_again_with_the_error(app, admin, typed, error):
    response = get(admin, app, "tikisync.clone_trackers", url=typed)
    assert response.status_code == 422
    assert error in wizard(response).find(class_="ts-error").text


def test_401_is_shown_in_the_page_with_the_credentials_link(app, admin, make_master):
    master = make_master()
    add_credential(app, master, secret="wrong-token-0123456789")
    for htmx in (False, True):
        response = get(admin, app, "tikisync.clone_trackers", htmx=htmx, url=master.url)
        assert response.status_code == 200
        problem = wizard(response).find(id="clone-problem")
        assert "401" in problem.text and "credential “master”" in problem.text
        assert "API token" in problem.text
        assert credentials_links(app, problem)
        assert fm.TOKEN not in response.get_data(as_text=True)


def test_403_when_listing_is_shown_in_the_page_with_the_credentials_link(app, admin, make_master):
    master = tiki9_master(make_master)
    add_credential(app, master, method="basic", username=LIMITED, secret=LIMITED_PASSWORD)
    response = get(admin, app, "tikisync.clone_trackers", url=master.url)
    assert response.status_code == 200
    problem = wizard(response).find(id="clone-problem")
    assert "403" in problem.text and "admin_trackers" in problem.text
    assert credentials_links(app, problem)
    assert LIMITED_PASSWORD not in response.get_data(as_text=True)


def test_403_on_the_field_export_is_shown_in_the_preview(app, admin, make_master):
    master = make_master(accounts={fm.USER: fm.PASSWORD, LIMITED: LIMITED_PASSWORD},
                         limited_users={LIMITED})
    add_credential(app, master, method="basic", username=LIMITED, secret=LIMITED_PASSWORD)
    assert "SyncDemo" in get(admin, app, "tikisync.clone_trackers", url=master.url).text
    response = get(admin, app, "tikisync.clone_preview", url=master.url, tracker=1)
    assert response.status_code == 200
    problem = wizard(response).find(id="clone-problem")
    assert "403" in problem.text and credentials_links(app, problem)
    assert wizard(response).find("form", method="post") is None  # nothing to create


@pytest.mark.parametrize("trouble", ["server", "down", "html"])
def test_other_remote_trouble_is_a_page_never_a_500(app, admin, make_master, monkeypatch,
                                                     trouble):
    from_app = creds.RemoteConfig.from_app.__func__
    monkeypatch.setattr(creds.RemoteConfig, "from_app", classmethod(
        lambda cls, app=None, **kw: from_app(cls, app, **{"backoff": 0, **kw})))  # no waits
    master = make_master(**({"answer_status": 500, "fail_status": 500} if trouble == "server"
                            else {"html_login": True} if trouble == "html" else {}))
    add_credential(app, master)
    address = master.url
    if trouble == "down":
        master.stop()  # the port is closed: the connection is refused at once
    response = get(admin, app, "tikisync.clone_trackers", url=address)
    assert response.status_code == 200
    problem = wizard(response).find(id="clone-problem")
    title = problem.find("strong").text
    assert title == {"server": "The master could not be used",
                     "down": "The master could not be reached",
                     "html": "The master answered with a web page instead of data"}[trouble]


def test_preview_shows_every_field_and_what_happens_to_it(app, admin, master):
    for htmx in (False, True):
        response = get(admin, app, "tikisync.clone_preview", htmx=htmx, url=master.url, tracker=1)
        page = wizard(response)
        rows = {tr["id"][len("plan-"):]: tr
                for tr in page.find(id="clone-plan").find("tbody").find_all("tr")}
        assert list(rows) == ["title", "amount", "priority", "assignee", "number"]
        assert [rows[p]["data-action"] for p in rows] == ["kept", "kept", "kept", "transformed",
                                                         "skipped"]
        assignee = rows["assignee"].get_text(" ", strip=True)
        assert "User selector u" in assignee and "Dropdown d" in assignee
        assert [c.text for c in rows["assignee"].find_all("code")][-3:] == ["admin", "bob", "carol"]
        assert [c.text for c in rows["priority"].find_all("li")] == ["low", "medium", "high"]
        assert "auto-increment" in rows["number"].text
        assert "Nothing has been created yet" in page.find(id="clone-summary").text
    assert Tracker.select().count() == 0


def preview_form(admin, app, master):
    page = wizard(get(admin, app, "tikisync.clone_preview", url=master.url, tracker=1))
    form = page.find("form", method="post")
    assert form["action"] == url(app, "tikisync.clone_create")
    return hidden_inputs(form)


def test_create_redirects_to_a_page_with_the_next_steps(app, admin, master):
    data = preview_form(admin, app, master)
    assert data["url"] == master.url and data["tracker"] == "1" and data["digest"]
    response = admin.post(url(app, "tikisync.clone_create"), data=data)
    assert response.status_code == 303
    tracker = Tracker.get()
    assert response.location == url(app, "tikisync.clone_done", tracker_id=tracker.id)
    assert [(f.perm_name, f.type) for f in tracker.ordered_fields()] == [
        ("title", "t"), ("amount", "n"), ("priority", "d"), ("assignee", "d")]
    assert tracker.credential.identifier == "master" and tracker.protocol == "B"
    done = soup(admin.get(response.location))
    links = {a["href"] for a in done.find(id="clone-next").find_all("a")}
    assert url(app, "tikisync.fields", tracker_id=tracker.id) in links
    assert url(app, "tikisync.sync", tracker_id=tracker.id) in links
    reload = done.find(id="clone-next").find("form")
    assert reload["method"] == "post"
    assert reload["action"] == url(app, "tikisync.tracker_reload", tracker_id=tracker.id)
    assert reload.find("button").text == "Reload data now"
    assert reload.find("input", {"name": "csrf_token"})
    assert "number" in done.find(id="clone-skipped").text
    # "Reload data now" works from there (the inline runner finishes the job at once).
    answer = admin.post(reload["action"], data={})
    assert answer.status_code == 303
    assert Tracker.get_by_id(tracker.id).items.count() == 3


def test_create_with_htmx_swaps_the_wizard_and_pushes_the_done_url(app, admin, master):
    data = preview_form(admin, app, master)
    response = admin.post(url(app, "tikisync.clone_create"), data=data, headers=HX)
    assert response.status_code == 200
    tracker = Tracker.get()
    assert response.headers["HX-Push-Url"] == url(app, "tikisync.clone_done", tracker_id=tracker.id)
    assert "tikisync:tracker-cloned" in json.loads(response.headers["HX-Trigger"])
    fragment = soup(response)
    assert fragment.find("html") is None and fragment.find(id="clone-created") is not None


def test_create_after_the_master_changed_shows_the_new_preview(app, admin, master):
    data = preview_form(admin, app, master)
    master.fields[1].append({**master.fields[1][0], "fieldId": 9, "permName": "extra",
                             "name": "Extra", "position": 99})
    response = admin.post(url(app, "tikisync.clone_create"), data=data)
    assert response.status_code == 200
    page = wizard(response)
    assert page.find(id="clone-changed") is not None and page.find(id="plan-extra") is not None
    assert Tracker.select().count() == 0
    again = admin.post(url(app, "tikisync.clone_create"),
                       data=hidden_inputs(page.find("form", method="post")))
    assert again.status_code == 303 and Tracker.get().fields.count() == 5


def test_create_without_a_csrf_token_is_refused(app, admin, master):
    data = preview_form(admin, app, master)
    data.pop("csrf_token")
    admin.send_csrf = False
    response = admin.post(url(app, "tikisync.clone_create"), data=data)
    assert response.status_code == 400
    assert "Request refused" in response.get_data(as_text=True)
    assert Tracker.select().count() == 0


WIZARD_ROUTES = [("GET", "tikisync.clone", {}), ("GET", "tikisync.clone_trackers", {"url": "x"}),
                 ("GET", "tikisync.clone_preview", {"url": "x", "tracker": 1}),
                 ("POST", "tikisync.clone_create", {})]


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_clone(app, client, auth, master, role):
    for method, endpoint, values in WIZARD_ROUTES:
        assert client.open(url(app, endpoint, **values), method=method).status_code in (302, 303)
    auth.become(role)
    for method, endpoint, values in WIZARD_ROUTES:
        response = client.open(url(app, endpoint, **values), method=method)
        assert response.status_code == 403, endpoint
        assert "needs the admin role" in response.get_data(as_text=True)
    dashboard = soup(client.get(url(app, "tikisync.dashboard")))
    assert not dashboard.find("a", href=url(app, "tikisync.clone"))
    assert master.requests == []


def test_switched_off_sync_refuses_the_wizard_with_the_message(app, admin, master):
    dashboard = soup(admin.get(url(app, "tikisync.dashboard")))
    assert dashboard.find("a", href=url(app, "tikisync.clone")).text == "Clone a remote tracker"
    with app.app_context():
        settings.put(settings.REMOTE_SYNC, "n")
    for method, endpoint, values in WIZARD_ROUTES + [("GET", "tikisync.clone_trackers",
                                                      {"url": master.url})]:
        response = admin.open(url(app, endpoint, **values), method=method)
        assert response.status_code == 403
        assert settings.SYNC_DISABLED_MESSAGE in soup(response).text
    assert master.requests == []
    dashboard = soup(admin.get(url(app, "tikisync.dashboard")))
    assert not dashboard.find("a", href=url(app, "tikisync.clone"))


# --- drift and adoption on the tracker's pages -------------------------------------------------

@pytest.fixture
def cloned(app, admin, master):
    response = admin.post(url(app, "tikisync.clone_create"), data=preview_form(admin, app, master))
    assert response.status_code == 303
    return Tracker.get()


def test_fields_page_of_a_clone_links_to_the_drift_page(app, admin, cloned):
    page = soup(admin.get(url(app, "tikisync.fields", tracker_id=cloned.id)))
    link = page.find(id="clone-source").find("a")
    assert link["href"] == url(app, "tikisync.tracker_drift", tracker_id=cloned.id)
    assert "was" in page.find(id="field-list").find("code", string="u").parent.text


def test_drift_page_lists_changes_and_adopts_an_added_field(app, admin, master, cloned):
    page = soup(admin.get(url(app, "tikisync.tracker_drift", tracker_id=cloned.id)))
    assert "No new fields" in page.find(id="drift-added").text
    rows = master.fields[1]
    rows[:] = [r for r in rows if r["permName"] != "amount"]
    next(r for r in rows if r["permName"] == "priority")["type"] = "R"
    rows.append({**rows[0], "fieldId": 9, "permName": "reviewer", "name": "Reviewer", "type": "u",
                 "position": 99, "isMandatory": "n", "options": '{"groupIds":[2]}'})
    page = soup(admin.get(url(app, "tikisync.tracker_drift", tracker_id=cloned.id)))
    boxes = page.find(id="drift-added").find_all("input", {"name": "perm"})
    assert [b["value"] for b in boxes] == ["reviewer"]
    assert "amount" in page.find(id="drift-removed").text
    assert "priority" in page.find(id="drift-retyped").text
    form = page.find(id="drift-added").find("form")
    assert form["action"] == url(app, "tikisync.tracker_adopt", tracker_id=cloned.id)

    empty = admin.post(form["action"], data={})
    assert empty.status_code == 422 and "Choose at least one field" in empty.get_data(as_text=True)
    adopted = admin.post(form["action"], data={"perm": ["reviewer"]})
    assert adopted.status_code == 303
    assert adopted.location == url(app, "tikisync.fields", tracker_id=cloned.id)
    field = Field.get(Field.tracker == cloned, Field.perm_name == "reviewer")
    assert (field.type, field.options, field.remote_type) == (
        "d", {"options": ["bob", "carol"]}, "u")
    assert "Reviewer" in soup(admin.get(adopted.location)).find(id="tikisync-messages").text
    page = soup(admin.get(url(app, "tikisync.tracker_drift", tracker_id=cloned.id)))
    assert "No new fields" in page.find(id="drift-added").text
    assert "amount" in page.find(id="drift-removed").text


def test_drift_page_shows_a_refused_credential_in_the_page(app, admin, master, cloned):
    master.tokens.clear()
    response = admin.get(url(app, "tikisync.tracker_drift", tracker_id=cloned.id))
    assert response.status_code == 200
    problem = soup(response).find(id="clone-problem")
    assert "401" in problem.text and credentials_links(app, problem)


def test_drift_and_adopt_need_an_admin_a_clone_and_the_switch(app, client, auth, master, cloned):
    auth.become("editor")
    assert client.get(url(app, "tikisync.tracker_drift", tracker_id=cloned.id)).status_code == 403
    assert client.post(url(app, "tikisync.tracker_adopt", tracker_id=cloned.id),
                       data={"perm": "x"}).status_code == 403
    auth.become("admin")
    with app.app_context():
        local = Tracker.create(name="Local")
    assert client.get(url(app, "tikisync.tracker_drift", tracker_id=local.id)).status_code == 404
    with app.app_context():
        settings.put(settings.REMOTE_SYNC, "n")
    response = client.get(url(app, "tikisync.tracker_drift", tracker_id=cloned.id))
    assert response.status_code == 403
    assert settings.SYNC_DISABLED_MESSAGE in response.get_data(as_text=True)


def test_every_wizard_url_keeps_its_query_for_reload_and_back(app, admin, master):
    """Steps 2 and 3 are GET URLs with everything in the query: reloading one is the same page."""
    page = wizard(get(admin, app, "tikisync.clone_trackers", url=master.url))
    href = page.find(id="remote-trackers").find("a")["href"]
    query = parse_qs(urlsplit(href).query)
    assert query == {"url": [master.url], "tracker": ["1"]}
    first, second = admin.get(href), admin.get(href)
    assert first.status_code == second.status_code == 200
    assert wizard(first).find(id="clone-plan") is not None


def test_back_then_create_again_asks_before_a_second_clone(app, admin, master):
    data = preview_form(admin, app, master)  # the preview, as the Back button shows it again
    assert admin.post(url(app, "tikisync.clone_create"), data=data).status_code == 303
    first = Tracker.get()
    again = admin.post(url(app, "tikisync.clone_create"), data=data)
    assert again.status_code == 422
    assert Tracker.select().count() == 1  # nothing was created
    notice = wizard(again).find(id="clone-existing")
    assert "Nothing was created" in notice.get_text()
    assert notice.find("a", string=f"“{first.name}”")["href"] == url(app, "tikisync.items",
                                                                    tracker_id=first.id)
    # The preview now names the first clone too, and creating from it is a deliberate choice.
    page = wizard(get(admin, app, "tikisync.clone_preview", url=master.url, tracker=1))
    assert page.find(id="clone-existing") is not None
    assert page.find("form", method="post").find("button").get_text() == "Create a second clone"
    second = admin.post(url(app, "tikisync.clone_create"),
                        data=hidden_inputs(page.find("form", method="post")))
    assert second.status_code == 303 and Tracker.select().count() == 2
