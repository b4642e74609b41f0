"""The master as Tiki 24's clone client sees it: tiki-api.php?route=... with a Bearer token,
GET reads and POST writes, plus the /api/... rewrite of the same routes."""
import pytest

from tests.support.apps import PASSWORD
from tests.support.master_api import ACCEPT, TikiB, basic, bearer
from tests.support.pages import url
from tests.support.tiki_readraw import read_raw
from tikisync_web.db import database
from tikisync_web.models import ApiToken, AuditEvent, Item

SHAPES = ["query", "raw", "rewrite"]


@pytest.mark.parametrize("shape", SHAPES)
def test_reads(master, shape):
    client = TikiB(master.client, bearer(master.tokens["viewer"]), shape=shape)
    tid = master.tracker.id
    trackers = client.get("trackers")
    assert trackers.status_code == 200, trackers.get_data(as_text=True)
    assert trackers.get_json()["list"] == {str(tid): "SyncDemo"}
    export = client.get(f"trackers/{tid}/fields/export").get_json()
    assert [s["permName"] for s in read_raw(export["export"]).values()][:2] == ["title", "amount"]
    items = client.get(f"trackers/{tid}", format="raw").get_json()
    # The route's defaults, as Tiki's ApiBridge sets them (tiki-examples/17).
    assert (items["offset"], items["maxRecords"]) == (-1, -1) and len(items["result"]) == 3
    page = client.get(f"trackers/{tid}", format="raw", offset=1, maxRecords=1).get_json()
    assert [i["itemId"] for i in page["result"]] == [master.item_ids[1]]
    closed = client.get(f"trackers/{tid}", format="raw", status="c").get_json()
    assert [i["status"] for i in closed["result"]] == ["c"]
    users = client.get("users", offset=0, maxRecords=20).get_json()
    assert users["count"] == 3
    assert "12" in client.get("categories").get_json()
    field_id = export["fields"][0]["fieldId"]
    field = client.get(f"trackers/{tid}/fields/{field_id}").get_json()["field"]
    assert field["permName"] == "title"
    assert client.post(f"trackers/{tid}/fields/{field_id}").status_code == 200
    translations = client.get(f"translations/trackeritem/{master.item_ids[0]}").get_json()
    assert translations["translations"] == []


@pytest.mark.parametrize("shape", SHAPES)
def test_writes(master, shape):
    client = TikiB(master.client, bearer(master.tokens["editor"]), shape=shape)
    tid = master.tracker.id
    created = client.post(f"trackers/{tid}/items", status="o",
                          fields={"title": "Fifth item (api)", "amount": "0.5"})
    assert created.status_code == 200, created.get_data(as_text=True)
    new_id = created.get_json()["itemId"]
    assert new_id and new_id not in master.item_ids
    # Tiki 24 posts its *local* itemId in the body (W12): the path must win.
    updated = client.post(f"trackers/{tid}/items/{new_id}", itemId=master.item_ids[0],
                          fields={"title": "Fifth item (api, edited)", "priority": "high"})
    assert updated.status_code == 200, updated.get_data(as_text=True)
    answer = updated.get_json()
    assert answer["itemId"] == new_id and answer["fields"]["amount"] == "0.5"
    assert answer["fields"]["title"] == "Fifth item (api, edited)"
    with database.connection_context():
        assert Item.get_by_id(master.item_ids[0]).values["title"] == "First item"
        events = list(AuditEvent.select().where(AuditEvent.item_id == new_id)
                      .order_by(AuditEvent.id))
    assert [(e.action, e.username) for e in events] == [("item.create", "editor"),
                                                        ("item.update", "editor")]


def test_write_refusals(master):
    client = master.b["editor"]
    tid = master.tracker.id
    assert client.post(f"trackers/{tid}/items", fields={"amount": "1"}).status_code == 409
    assert client.post(f"trackers/{tid}/items", fields={"title": "x", "amount": "?"}
                       ).status_code == 400
    assert client.post(f"trackers/{tid}/items/999999", fields={"title": "x"}).status_code == 404
    assert master.b["viewer"].post(f"trackers/{tid}/items", fields={"title": "x"}
                                   ).status_code == 403
    assert client.get(f"trackers/{tid}/items").status_code == 405
    assert client.post(f"trackers/{tid}", format="raw").status_code == 405


def test_basic_credentials_are_ignored(master):
    """tiki-api.php knows only tokens (tiki-examples/23): Basic makes the caller anonymous."""
    client = TikiB(master.client, basic("admin"))
    for route in ("trackers", f"trackers/{master.tracker.id}"):
        response = client.get(route)
        assert response.status_code == 403, route
        assert response.get_json()["code"] == 403
    wrong = TikiB(master.client, basic("admin", "wrong password"))
    assert wrong.get("trackers").status_code == 403  # ignored, so not even a 401
    assert client.post(f"trackers/{master.tracker.id}/items",
                       fields={"title": "x"}).status_code == 403


def test_a_session_cookie_is_ignored(master):
    """Signed in to the UI, a browser still cannot use the API: no CSRF token protects it."""
    client = master.client
    signed_in = client.post(url(master.app, "tikisync.login"),
                            data={"username": "admin", "password": PASSWORD,
                                  "csrf_token": _csrf(client)})
    assert signed_in.status_code == 303
    api = TikiB(client)
    assert api.get("trackers").status_code == 403
    assert api.post(f"trackers/{master.tracker.id}/items",
                    fields={"title": "forged"}).status_code == 403
    gen_a = client.post(url(master.app, "tikisync_master.ajax_services", controller="tracker",
                            action="insert_item"),
                        data={"trackerId": master.tracker.id, "fields[title]": "forged"},
                        headers=ACCEPT)
    assert gen_a.status_code == 403
    with database.connection_context():
        assert Item.select().where(Item.tracker == master.tracker.id).count() == 3


def _csrf(client):
    client.send_csrf = True
    try:
        return client.csrf_token()
    finally:
        client.send_csrf = False


def test_bad_and_revoked_tokens_get_401(master):
    response = TikiB(master.client, bearer("tks_not-a-token")).get("trackers")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == 401
    with database.connection_context():
        ApiToken.delete().where(ApiToken.label == "viewer test").execute()
    assert master.b["viewer"].get("trackers").status_code == 401


def test_a_token_of_a_disabled_user_stops_working(master):
    from tikisync_web.models import User

    with database.connection_context():
        User.update(active=False).where(User.username == "viewer").execute()
    assert master.b["viewer"].get("trackers").status_code == 401


def test_gen_a_also_takes_a_token(master):
    """Tiki 23's "Authorization header" content authentication sends `Bearer ...`."""
    from tests.support.master_api import TikiA

    answer = TikiA(master.client, bearer(master.tokens["viewer"])).json("list_trackers")
    assert answer["cant"] == 1


def test_version_is_public(master):
    answer = master.anonymous_b.get("version").get_json()
    assert answer["version"] == "24.1" and answer["tikisync"]


def test_unknown_routes_are_404_json(master):
    for route in ("", "nothing", "trackers/1/items/2/more", "trackers//items"):
        response = master.b["admin"].get(route)
        assert response.status_code == 404, route
        assert response.get_json()["message"].endswith("(404)")
