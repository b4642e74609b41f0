"""Pushing edits to a master that takes many updates in one request (our own: route=version
says `"updates": true`): a batch's edits go in requests of 50, still re-read before (a
conflict is not sent) and after (verified), one item's refusal fails that item alone; a Tiki,
which does not announce it, keeps getting one update_item per item. The master's side:
at most 200 items, and a body of the wrong shape answers 400 with nothing written."""
import io
import json
import threading
from urllib.parse import parse_qs

import pytest
from werkzeug.serving import make_server

from tests.support import querycost
from tests.support.master_api import add_items, make_demo, snapshot
from tests.support.pages import url
from tests.support.sync import client, config, connect, make_clone
from tikisync_web import accounts, credentials
from tikisync_web import items as item_svc
from tikisync_web.db import database
from tikisync_web.models import Baseline, Field, Item
from tikisync_web.sync import push as push_mod
from tikisync_web.sync import reload as reload_mod

FIELDS = [
    ("title", "Title", "t", {}, True, ""),
    ("amount", "Amount", "n", {}, False, ""),
    ("priority", "Priority", "d", {"options": ["low", "medium", "high"]}, False, ""),
]


class Counting:
    """The app as a WSGI server serves it, noting (action or route, body) of each request."""

    def __init__(self, app):
        self.app, self.seen = app, []

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        name = query.get("action", query.get("route", [environ["PATH_INFO"]]))[0]
        self.seen.append((name, parse_qs(body.decode())))
        return self.app(environ, start_response)

    def count(self, ending):
        return sum(1 for name, _ in self.seen if name.endswith(ending))

    def sent_ids(self):
        """Item ids carried by the update_items requests, request by request."""
        return [[row["itemId"] for row in json.loads(form["items"][0])]
                for name, form in self.seen if name.endswith("/updates")]


@pytest.fixture
def ours(app, db, users):
    """Our master (this very app, over loopback HTTP) with a tracker of 130 items, and a
    clone of it here, reloaded: (master tracker, clone tracker, Counting)."""
    tracker = make_demo(fields=FIELDS)
    for n in range(130):
        item_svc.create_item(tracker, {"title": f"item {n}", "amount": str(n),
                                       "priority": "low"}, username="seed")
    token = accounts.create_token(users["editor"], "clone")
    counting = Counting(app)
    server = make_server("127.0.0.1", 0, counting, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api = url(app, "tikisync_master.api")
    base = f"http://127.0.0.1:{server.server_port}{api.rsplit('/', 1)[0]}"
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    credentials.add(config(app), identifier="ours", url=base, method="bearer",
                    username="editor", secret=token, allow_http=True)
    with client(app, base) as c:
        clone = make_clone_of(c, tracker.id)
        reload_mod.reload(clone, c)
    counting.seen.clear()
    yield tracker, clone, counting, base
    server.shutdown()
    thread.join(timeout=10)


def make_clone_of(c, remote_id):
    from tikisync_web.sync import clone as clone_mod

    plan = clone_mod.plan_clone(c, remote_id)
    return clone_mod.create_clone(plan, c.base_url, protocol=c.generation)


def edit_here(clone, count, values=lambda n: {"amount": f"{n}.5"}):
    rows = list(Item.select().where(Item.tracker == clone).order_by(Item.id).limit(count))
    for n, item in enumerate(rows):
        item_svc.update_item(item, values(n), username="t")
    return rows


def push(app, tracker, base):
    with client(app, base) as c:
        return push_mod.push(tracker, c, push_mod.plan_push(tracker), username="t")


def master_value(remote_id, perm):
    return Item.get_by_id(remote_id).values.get(perm)


def test_120_edits_go_in_three_update_requests_and_are_verified(app, ours):
    tracker, clone, counting, base = ours
    edited = edit_here(clone, 120)
    result = push(app, clone, base)
    assert result["failed"] == [] and len(result["pushed"]) == 120
    assert counting.count("/updates") == 3  # ceil(120 / 50)
    assert sorted(len(ids) for ids in counting.sent_ids()) == [20, 50, 50]  # in parallel
    assert counting.count("update_item") == 0 and counting.count("/items") == 0
    # Re-read before and after, by pages of ids: two reads of the master for 120 items.
    assert counting.count(f"trackers/{tracker.id}") == 2
    assert all(master_value(i.remote_id, "amount") == f"{n}.5" for n, i in enumerate(edited))
    assert master_value(edited[-1].remote_id + 1, "amount") == "120"  # not edited: untouched


def test_an_item_the_master_refuses_fails_alone_and_the_others_land(app, ours):
    tracker, clone, counting, base = ours
    edited = edit_here(clone, 6)
    # The master no longer offers "high", which the clone still does; one item is gone there.
    Field.update(options={"options": ["low", "medium"]}).where(
        Field.tracker == tracker, Field.perm_name == "priority").execute()
    item_svc.update_item(Item.get_by_id(edited[2].id), {"priority": "high"}, username="t")
    Item.delete_by_id(edited[4].remote_id)
    result = push(app, clone, base)
    assert counting.count("/updates") == 1
    failed = {f["id"]: f["error"] for f in result["failed"]}
    assert list(failed) == [edited[2].id] and "priority" in failed[edited[2].id]
    assert {s["id"]: s["reason"] for s in result["skipped"]} == {edited[4].id: "deleted_on_master"}
    assert sorted(p["id"] for p in result["pushed"]) == sorted(
        i.id for n, i in enumerate(edited) if n not in (2, 4))
    assert master_value(edited[2].remote_id, "amount") == "2"  # the refused item: nothing
    assert master_value(edited[3].remote_id, "amount") == "3.5"


def test_a_conflict_found_by_the_read_before_is_not_sent(app, ours):
    tracker, clone, counting, base = ours
    edited = edit_here(clone, 3)
    theirs = Item.get_by_id(edited[1].remote_id)
    item_svc.update_item(theirs, {"amount": "999"}, username="someone")  # after the check
    result = push(app, clone, base)
    assert [s for s in result["skipped"] if s["reason"] == "conflict"] == [
        {"id": edited[1].id, "reason": "conflict"}]
    assert counting.sent_ids() == [[edited[0].remote_id, edited[2].remote_id]]
    assert master_value(edited[1].remote_id, "amount") == "999"


@pytest.mark.parametrize("gen", ["B", "A"])
def test_a_tiki_without_the_announcement_gets_one_update_item_per_item(app, db, make_master,
                                                                       gen):
    """A Tiki 24 (route=version without `updates`) and a Tiki 9-23 (no tiki-api.php)."""
    master = make_master(items=[("o", {"title": f"item {n}", "amount": str(n)})
                                for n in range(60)], generations="AB" if gen == "B" else "A")
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master, method="bearer" if gen == "B" else "basic")
    tracker = make_clone(app, master)
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c)
    edit_here(tracker, 55)
    master.requests.clear()
    result = push(app, tracker, master.url)
    assert result["failed"] == [] and len(result["pushed"]) == 55
    names = [r.query.get("route", r.query.get("action", [""]))[0] for r in master.requests]
    assert sum(1 for r in names if r.startswith("trackers/1/items/") or r == "update_item") \
        == 55
    assert not any(r.endswith("/updates") or r == "update_items" for r in names)


def test_a_reply_of_the_wrong_shape_is_judged_by_the_read_after_not_sent_again(
        app, db, make_master):
    master = make_master(items=[("o", {"title": f"item {n}", "amount": str(n)})
                                for n in range(8)], batch_updates=True, item_id_filter=True)
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    tracker = make_clone(app, master)
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c)
    edit_here(tracker, 5)
    master.faults.arm("not_list", on="update_items")  # applied, then answered as [answer]
    master.requests.clear()
    result = push(app, tracker, master.url)
    assert result["failed"] == [] and len(result["pushed"]) == 5
    routes = [r.query.get("route", [""])[0] for r in master.requests]
    assert sum(1 for r in routes if r.endswith("/updates")) == 1
    assert [master.items[n]["fields"]["amount"] for n in range(1, 6)] == [
        f"{n}.5" for n in range(5)]


def test_a_404_for_the_whole_request_fails_its_items_without_taking_them_for_deleted(
        app, db, make_master):
    master = make_master(items=[("o", {"title": f"item {n}", "amount": str(n)})
                                for n in range(4)], batch_updates=True, item_id_filter=True)
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    tracker = make_clone(app, master)
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c)
    edited = edit_here(tracker, 3)

    def route_gone(stage, action, number):  # announced, then gone (a master downgraded)
        if stage == "before" and action == "update_items":
            master.settings.batch_updates = False

    master.faults.hook = route_gone
    result = push(app, tracker, master.url)
    assert sorted(f["id"] for f in result["failed"]) == [i.id for i in edited]
    assert all("not found" in f["error"] for f in result["failed"])
    assert result["skipped"] == [] and result["pushed"] == []
    assert not any(b.deleted_on_master for b in Baseline.select())
    assert [master.items[n]["fields"]["amount"] for n in (1, 2, 3)] == ["0", "1", "2"]


def _post(master, items, role="editor"):
    body = items if isinstance(items, str) else json.dumps(items)
    return master.b[role].post(f"trackers/{master.tracker.id}/updates", items=body)


BAD_BODIES = {
    "201 items": lambda ids: [{"itemId": ids[0] + n, "fields": {"amount": "1"}}
                              for n in range(201)],
    "not JSON": lambda ids: "[{itemId: 1",
    "not a list": lambda ids: {"itemId": ids[0], "fields": {"amount": "1"}},
    "an empty list": lambda ids: [],
    "an item without itemId": lambda ids: [{"itemId": ids[0], "fields": {"amount": "1"}},
                                           {"fields": {"amount": "2"}}],
    "fields as a list": lambda ids: [{"itemId": ids[0], "fields": ["1"]}],
    "a number as a value": lambda ids: [{"itemId": ids[0], "fields": {"amount": 5}}],
    "an item twice": lambda ids: [{"itemId": ids[0], "fields": {"amount": "1"}},
                                  {"itemId": ids[0], "fields": {"amount": "2"}}],
    "a status that is no text": lambda ids: [{"itemId": ids[0], "status": ["c"]}],
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_a_body_of_the_wrong_shape_answers_400_and_writes_nothing(master, case):
    before = snapshot()
    response = _post(master, BAD_BODIES[case](master.item_ids))
    assert response.status_code == 400, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["code"] == 400 and answer["message"] == answer["errortitle"]
    assert snapshot() == before


def test_the_master_answers_each_item_and_announces_the_route(master):
    one, two, three = master.item_ids
    version = master.anonymous_b.get("version").get_json()
    assert version["updates"] is True
    response = _post(master, [{"itemId": one, "fields": {"amount": "41"}, "status": "c"},
                              {"itemId": two, "fields": {"amount": "not a number"}},
                              {"itemId": 999999, "fields": {"amount": "1"}}])
    rows = response.get_json()["result"]
    assert [(r["itemId"], r["ok"]) for r in rows] == [(one, True), (two, False), (999999, False)]
    assert rows[0]["fields"]["amount"] == "41" and rows[0]["status"] == "c"
    assert rows[1]["code"] == 400 and "amount" in rows[1]["message"]
    assert rows[2]["code"] == 404
    with database.connection_context():
        assert Item.get_by_id(one).values["amount"] == "41"
        assert Item.get_by_id(two).values["amount"] == "3"
    # Gen A reaches it too; a viewer may not write.
    gen_a = master.a["editor"].json("update_items", trackerId=master.tracker.id,
                                    items=json.dumps([{"itemId": three,
                                                       "fields": {"amount": "8"}}]))
    assert gen_a["result"][0]["ok"] is True
    assert _post(master, [{"itemId": one, "fields": {"amount": "2"}}], "viewer").status_code \
        == 403


def test_the_master_reads_a_requests_items_in_one_query_however_many(master):
    """Shape, not timing: the item rows of 5 or 45 updates come from the same few SELECTs."""
    ids = add_items(master.tracker, [("o", {"title": f"more {n}"}) for n in range(50)])

    def item_selects(chunk):
        with querycost.recorded() as statements:
            response = _post(master, [{"itemId": i, "fields": {"amount": str(n)}}
                                      for n, i in enumerate(chunk)])
        assert response.status_code == 200 and all(r["ok"] for r in response.get_json()["result"])
        return len(querycost.selects(statements, Item._meta.table_name))

    few, many = item_selects(ids[:5]), item_selects(ids[5:])
    assert few == many <= 2, (few, many)
