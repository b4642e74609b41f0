"""The credentials page through the Flask test client: roles, forms, 303/422, fragments."""
import pytest

from tests.support.fake_master import TOKEN, USER
from tests.support.pages import soup, url
from tikisync_web import credentials as creds
from tikisync_web.models import AllowedOrigin, Credential

SECRET = "pa55-w0rd-never-shown"


def form_values(**overrides):
    values = {"identifier": "prod", "url": "https://tiki.example.org/tiki", "method": "basic",
              "username": "sync", "secret": SECRET, "login_url": "", "generation": "auto"}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def stored(app, **values):
    with app.app_context():
        return creds.add(creds.RemoteConfig.from_app(app), **form_values(**values))


def test_admin_only(client, auth, app):
    page = url(app, "tikisync.credentials")
    response = client.get(page)
    assert response.status_code == 302 and "login" in response.headers["Location"]
    for role in ("viewer", "editor"):
        auth.login(role)
        assert client.get(page).status_code == 403
        assert client.post(url(app, "tikisync.credential_create"),
                           data=form_values()).status_code == 403
        nav = soup(client.get(url(app, "tikisync.dashboard"))).find("nav")
        assert page not in [a["href"] for a in nav.find_all("a")]
    assert Credential.select().count() == 0


def test_nav_link_for_admins(admin, app):
    nav = soup(admin.get(url(app, "tikisync.dashboard"))).find("nav")
    assert url(app, "tikisync.credentials") in [a["href"] for a in nav.find_all("a")]


def test_empty_page(admin, app):
    response = admin.get(url(app, "tikisync.credentials"))
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = soup(response)
    assert page.find("h1").text == "Credentials"
    add_form = page.find("form", id="credential-add")
    assert add_form["action"] == url(app, "tikisync.credential_create")
    assert page.find("form", id="origin-add")["action"] == url(app, "tikisync.origin_create")


def test_add_then_303_and_listed_without_secret(admin, app):
    response = admin.post(url(app, "tikisync.credential_create"), data=form_values())
    assert response.status_code == 303
    assert response.headers["Location"] == url(app, "tikisync.credentials")
    page = admin.get(url(app, "tikisync.credentials"))
    rows = soup(page).find("table", id="credentials").find("tbody").find_all("tr")
    assert [r.find("td").text for r in rows] == ["prod"]
    assert SECRET not in page.get_data(as_text=True)
    cred = Credential.get()
    assert SECRET not in cred.secret
    links = {a.text: a["href"] for a in rows[0].find_all("a")}
    assert links == {"Edit": url(app, "tikisync.credential_edit", cred_id=cred.id),
                     "Delete": url(app, "tikisync.credential_delete", cred_id=cred.id)}


def test_invalid_add_is_422_with_the_form_and_nothing_saved(admin, app):
    response = admin.post(url(app, "tikisync.credential_create"),
                          data=form_values(url="http://tiki.example.org/tiki", username=""))
    assert response.status_code == 422
    page = soup(response)
    errors = {p["id"]: p.text for p in page.select("form#credential-add .ts-error")}
    assert "plain http" in errors["url-error"] and "user name" in errors["username-error"]
    form = page.find("form", id="credential-add")
    assert form.find("input", {"name": "identifier"})["value"] == "prod"  # kept as typed
    assert not form.find("input", {"name": "secret"}).get("value")  # a secret is never echoed
    assert SECRET not in response.get_data(as_text=True)
    assert Credential.select().count() == 0


def test_csrf_is_required(admin, app):
    admin.send_csrf = False
    response = admin.post(url(app, "tikisync.credential_create"), data=form_values())
    assert response.status_code == 400
    assert Credential.select().count() == 0


def test_edit_without_retyping_the_secret(admin, app):
    cred = stored(app)
    before = cred.secret
    edit = url(app, "tikisync.credential_edit", cred_id=cred.id)
    page = admin.get(edit)
    assert page.status_code == 200 and SECRET not in page.get_data(as_text=True)
    form = soup(page).find("main").find("form")
    assert form.find("input", {"name": "username"})["value"] == "sync"
    assert not form.find("input", {"name": "secret"}).get("value")
    response = admin.post(edit, data=form_values(username="renamed", secret=""))
    assert response.status_code == 303
    row = Credential.get_by_id(cred.id)
    assert row.username == "renamed" and row.secret == before


def test_invalid_edit_is_422_and_changes_nothing(admin, app):
    cred = stored(app)
    edit = url(app, "tikisync.credential_edit", cred_id=cred.id)
    response = admin.post(edit, data=form_values(url="not a url", secret=""))
    assert response.status_code == 422
    assert soup(response).select_one("#url-error")
    assert Credential.get_by_id(cred.id).url == "https://tiki.example.org/tiki"


def test_edit_unknown_is_404(admin, app):
    assert admin.get(url(app, "tikisync.credential_edit", cred_id=99)).status_code == 404


def test_delete_with_confirmation(admin, app):
    cred = stored(app)
    target = url(app, "tikisync.credential_delete", cred_id=cred.id)
    page = soup(admin.get(target))
    assert page.find("h1").text == "Delete credential prod?"
    assert page.find("main").find("form")["action"] == target
    assert Credential.select().count() == 1  # asking is not deleting
    response = admin.post(target)
    assert response.status_code == 303 and Credential.select().count() == 0


def test_test_button_plain_post_shows_the_result_after_303(admin, app, fake_master):
    cred = stored(app, url=fake_master.url, method="bearer", username="", secret=TOKEN,
                  allow_http="y")
    response = admin.post(url(app, "tikisync.credential_test", cred_id=cred.id))
    assert response.status_code == 303
    page = soup(admin.get(response.headers["Location"]))
    message = page.find(id="tikisync-messages").text
    assert "may read items" in message and "Tiki 24.1" in message


def test_test_button_htmx_gets_the_fragment(admin, app, fake_master):
    cred = stored(app, url=fake_master.url, method="basic", username=USER, secret="wrong-pass",
                  allow_http="y")
    target = f"credential-test-{cred.id}"
    response = admin.post(url(app, "tikisync.credential_test", cred_id=cred.id),
                          headers={"HX-Request": "true", "HX-Target": target})
    assert response.status_code == 200
    assert "tikisync:credential-tested" in response.headers["HX-Trigger"]
    fragment = soup(response)
    root = fragment.find(id=target)
    assert root is not None and fragment.find("html") is None
    assert "401" in root.text and "wrong-pass" not in response.get_data(as_text=True)
    # The page declares that target, and the button posts to the same URL.
    page = soup(admin.get(url(app, "tikisync.credentials")))
    button_form = page.find("form", attrs={"hx-target": "#" + target})
    assert button_form["hx-post"] == url(app, "tikisync.credential_test", cred_id=cred.id)
    assert page.find(id=target) is not None


def test_htmx_without_the_declared_target_gets_no_fragment(admin, app, fake_master):
    cred = stored(app, url=fake_master.url, method="bearer", username="", secret=TOKEN,
                  allow_http="y")
    response = admin.post(url(app, "tikisync.credential_test", cred_id=cred.id),
                          headers={"HX-Request": "true", "HX-Target": "somewhere-else"})
    assert response.status_code == 303


def test_allowed_sites(admin, app):
    response = admin.post(url(app, "tikisync.origin_create"),
                          data={"origin": "http://10.1.2.3:8080/tiki"})
    assert response.status_code == 303
    page = soup(admin.get(url(app, "tikisync.credentials")))
    assert [c.text for c in page.select(".ts-origins code")] == ["http://10.1.2.3:8080"]
    bad = admin.post(url(app, "tikisync.origin_create"), data={"origin": "gopher://x"})
    assert bad.status_code == 422 and soup(bad).select_one("#origin-error")
    again = admin.post(url(app, "tikisync.origin_create"), data={"origin": "http://10.1.2.3:8080"})
    assert again.status_code == 422 and "already allowed" in soup(again).select_one(
        "#origin-error").text
    row = AllowedOrigin.get()
    remove = page.select_one(".ts-origins form")["action"]
    assert remove == url(app, "tikisync.origin_delete", origin_id=row.id)
    assert admin.post(remove).status_code == 303
    assert AllowedOrigin.select().count() == 0
