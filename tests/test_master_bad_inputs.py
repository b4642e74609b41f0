"""Every action against bad input: the status each gets, always Tiki's JSON error, never HTML,
never a 500 — and none of them changes a single row."""
from urllib.parse import urlencode

import pytest

from tests.support.master_api import ACCEPT, FORM, add_items, basic, bearer, make_demo, snapshot
from tests.support.pages import url
from tests.support.report import record
from tikisync_web.fields import MAX_VALUE_LENGTH
from tikisync_web.master.blueprint import MAX_BODY

pytestmark = pytest.mark.reliability

TOO_LONG = "x" * (MAX_VALUE_LENGTH + 1)
HUGE = "y" * (MAX_BODY + 1)  # beyond the body limit: 413 before any field is read
BAD_PASSWORD = basic("admin", "not the password")

# (case, http method, where, body pairs, auth, expected status)
#   where: "A:controller/action" (tiki-ajax_services.php) or "B:route" (tiki-api.php)
#   auth: a role (Basic for A, its token for B), None, or a header dict
#   {tid} {item} {other} {field} {foreign} are filled in from the fixture's data
CASES = {
    "list_trackers": [
        ("bad password", "POST", "A:tracker/list_trackers", [], BAD_PASSWORD, 401),
        ("malformed Basic header", "POST", "A:tracker/list_trackers", [],
         {"Authorization": "Basic !!!not-base64"}, 401),
        ("non-ASCII Basic header", "POST", "A:tracker/list_trackers", [],
         {"Authorization": "Basic \u00e9\u00e9 !!"}, 401),
        ("anonymous", "POST", "A:tracker/list_trackers", [], None, 403),
        ("PUT", "PUT", "A:tracker/list_trackers", [], "admin", 405),
        ("DELETE", "DELETE", "A:tracker/list_trackers", [], "admin", 405),
        ("unbalanced bracket", "POST", "A:tracker/list_trackers", [("x[", "1")], "admin", 400),
        ("NUL in a value", "POST", "A:tracker/list_trackers", [("x", "a\x00b")], "admin", 400),
        ("B bad token", "GET", "B:trackers", [], {"Authorization": "Bearer nope"}, 401),
        ("B Basic only", "GET", "B:trackers", [], basic("admin"), 403),
        ("B POST", "POST", "B:trackers", [], "admin", 405),
    ],
    "export_fields": [
        ("missing trackerId", "POST", "A:tracker/export_fields", [], "admin", 400),
        ("non-numeric trackerId", "POST", "A:tracker/export_fields", [("trackerId", "abc")],
         "admin", 400),
        ("trackerId as a list", "POST", "A:tracker/export_fields", [("trackerId[]", "{tid}")],
         "admin", 400),
        ("unknown tracker", "POST", "A:tracker/export_fields", [("trackerId", "999999")],
         "admin", 404),
        ("id beyond 32 bits", "POST", "A:tracker/export_fields",
         [("trackerId", "99999999999999999999")], "admin", 404),
        ("negative id", "POST", "A:tracker/export_fields", [("trackerId", "-1")], "admin", 404),
        ("non-numeric field id", "POST", "A:tracker/export_fields",
         [("trackerId", "{tid}"), ("fields[]", "x")], "admin", 400),
        ("anonymous", "POST", "A:tracker/export_fields", [("trackerId", "{tid}")], None, 403),
        ("B non-numeric", "GET", "B:trackers/abc/fields/export", [], "admin", 400),
        ("B unknown tracker", "GET", "B:trackers/999999/fields/export", [], "admin", 404),
        ("B DELETE", "DELETE", "B:trackers/{tid}/fields/export", [], "admin", 405),
    ],
    "list_items": [
        ("missing trackerId", "POST", "A:tracker/list_items", [], "viewer", 400),
        ("non-numeric trackerId", "POST", "A:tracker/list_items", [("trackerId", "1x")],
         "viewer", 400),
        ("unknown tracker", "POST", "A:tracker/list_items", [("trackerId", "999999")],
         "viewer", 404),
        ("non-numeric offset", "POST", "A:tracker/list_items",
         [("trackerId", "{tid}"), ("offset", "first")], "viewer", 400),
        ("non-numeric maxRecords", "POST", "A:tracker/list_items",
         [("trackerId", "{tid}"), ("maxRecords", "all")], "viewer", 400),
        ("non-numeric modifiedSince", "POST", "A:tracker/list_items",
         [("trackerId", "{tid}"), ("modifiedSince", "yesterday")], "viewer", 400),
        ("non-numeric itemId", "POST", "A:tracker/list_items",
         [("trackerId", "{tid}"), ("itemId[]", "one")], "viewer", 400),
        ("nested status", "POST", "A:tracker/list_items",
         [("trackerId", "{tid}"), ("status[a][b]", "o")], "viewer", 400),
        ("format as a list", "POST", "A:tracker/list_items",
         [("trackerId", "{tid}"), ("format[]", "raw")], "viewer", 400),
        ("value then list", "POST", "A:tracker/list_items",
         [("trackerId", "{tid}"), ("trackerId[x]", "1")], "viewer", 400),
        ("anonymous", "POST", "A:tracker/list_items", [("trackerId", "{tid}")], None, 403),
        ("bad password", "POST", "A:tracker/list_items", [("trackerId", "{tid}")],
         BAD_PASSWORD, 401),
        ("TRACE", "TRACE", "A:tracker/list_items", [], "viewer", 405),
        ("B non-numeric", "GET", "B:trackers/x1", [], "viewer", 400),
        ("B unknown tracker", "GET", "B:trackers/999999", [], "viewer", 404),
        ("B bad query bracket", "GET", "B:trackers/{tid}?offset]=1", [], "viewer", 400),
        ("B PUT", "PUT", "B:trackers/{tid}", [], "viewer", 405),
        ("B no token", "GET", "B:trackers/{tid}", [], None, 403),
    ],
    "insert_item": [
        ("missing trackerId", "POST", "A:tracker/insert_item", [("fields[title]", "x")],
         "editor", 400),
        ("non-numeric trackerId", "POST", "A:tracker/insert_item",
         [("trackerId", "one"), ("fields[title]", "x")], "editor", 400),
        ("unknown tracker", "POST", "A:tracker/insert_item",
         [("trackerId", "999999"), ("fields[title]", "x")], "editor", 404),
        ("no fields", "POST", "A:tracker/insert_item", [("trackerId", "{tid}")], "editor", 400),
        ("fields as a scalar", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields", "title=x")], "editor", 400),
        ("fields[", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[", "x")], "editor", 400),
        ("fields[title", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title", "x")], "editor", 400),
        ("fields[a]]", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[a]]", "x")], "editor", 400),
        ("fields[a][b] where a string is expected", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title][a][b]", "x")], "editor", 400),
        ("list then value", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title][]", "x"), ("fields[title]", "y")],
         "editor", 400),
        ("only unknown permNames", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[nosuch]", "1"), ("fields[section]", "x")],
         "editor", 400),
        ("oversized value", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", TOO_LONG)], "editor", 400),
        ("body beyond the form limit", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "x"), ("fields[notes]", HUGE)], "editor", 413),
        ("NUL in a value", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "a\x00b")], "editor", 400),
        ("missing mandatory", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[amount]", "1")], "editor", 409),
        ("invalid number", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "x"), ("fields[amount]", "1,5")],
         "editor", 400),
        ("a date of 5,000 digits", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "x"), ("fields[due]", "9" * 5000)],
         "editor", 400),
        ("a number in other digits", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "x"), ("fields[amount]", "\u0663")],
         "editor", 400),
        ("invalid status", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("status", "open"), ("fields[title]", "x")], "editor", 400),
        ("GET", "GET", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "x")], "editor", 405),
        ("viewer", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "x")], "viewer", 403),
        ("anonymous", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "x")], None, 403),
        ("bad password", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[title]", "x")], BAD_PASSWORD, 401),
        ("broken JSON body", "POST", "A:tracker/insert_item", "{\"trackerId\": ", "editor", 400),
        ("JSON body not an object", "POST", "A:tracker/insert_item", "[1, 2]", "editor", 400),
        ("JSON lone surrogate", "POST", "A:tracker/insert_item",
         '{"trackerId": {tid}, "fields": {"title": "\\ud800"}}', "editor", 400),
        ("JSON nested a thousand deep", "POST", "A:tracker/insert_item", "[" * 1000 + "]" * 1000,
         "editor", 400),
        ("JSON nested too deeply", "POST", "A:tracker/insert_item",
         '{"trackerId": {tid}, "fields": {"title": [[["x"]]]}}', "editor", 400),
        ("only a permName in other digits", "POST", "A:tracker/insert_item",
         [("trackerId", "{tid}"), ("fields[\u00b2]", "x")], "editor", 400),
        ("an id in other digits", "POST", "A:tracker/insert_item",
         [("trackerId", "\u0663"), ("fields[title]", "x")], "editor", 400),
        ("B only unknown permNames", "POST", "B:trackers/{tid}/items",
         [("fields[nosuch]", "1")], "editor", 400),
        ("B oversized", "POST", "B:trackers/{tid}/items", [("fields[title]", TOO_LONG)],
         "editor", 400),
        ("B non-numeric tracker", "POST", "B:trackers/t/items", [("fields[title]", "x")],
         "editor", 400),
        ("B GET", "GET", "B:trackers/{tid}/items", [], "editor", 405),
        ("B viewer", "POST", "B:trackers/{tid}/items", [("fields[title]", "x")], "viewer", 403),
        ("B Basic only", "POST", "B:trackers/{tid}/items", [("fields[title]", "x")],
         basic("editor"), 403),
    ],
    "update_item": [
        ("missing itemId", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("fields[title]", "x")], "editor", 409),
        ("non-numeric itemId", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "first"), ("fields[title]", "x")], "editor", 400),
        ("missing trackerId", "POST", "A:tracker/update_item",
         [("itemId", "{item}"), ("fields[title]", "x")], "editor", 400),
        ("unknown item", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "999999"), ("fields[title]", "x")], "editor", 404),
        ("item of another tracker", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{foreign}"), ("fields[title]", "x")],
         "editor", 404),
        ("oversized value", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{item}"), ("fields[notes]", TOO_LONG)],
         "editor", 400),
        ("emptied mandatory", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{item}"), ("fields[title]", " ")], "editor", 409),
        ("invalid choice", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{item}"), ("fields[priority]", "urgent")],
         "editor", 400),
        ("fields[a][b] where a string is expected", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{item}"), ("fields[title][a][b]", "x")],
         "editor", 400),
        ("fields as a scalar", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{item}"), ("fields", "x")], "editor", 400),
        ("GET", "GET", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{item}"), ("fields[title]", "x")], "editor", 405),
        ("viewer", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{item}"), ("fields[title]", "x")], "viewer", 403),
        ("bad password", "POST", "A:tracker/update_item",
         [("trackerId", "{tid}"), ("itemId", "{item}"), ("fields[title]", "x")],
         BAD_PASSWORD, 401),
        ("B non-numeric item", "POST", "B:trackers/{tid}/items/abc", [("fields[title]", "x")],
         "editor", 400),
        ("B unknown item", "POST", "B:trackers/{tid}/items/999999", [("fields[title]", "x")],
         "editor", 404),
        ("B item of another tracker", "POST", "B:trackers/{tid}/items/{foreign}",
         [("fields[title]", "x")], "editor", 404),
        ("B body itemId cannot redirect a refused write", "POST",
         "B:trackers/{tid}/items/999999", [("itemId", "{item}"), ("fields[title]", "x")],
         "editor", 404),
        ("B PATCH", "PATCH", "B:trackers/{tid}/items/{item}", [("fields[title]", "x")],
         "editor", 405),
        ("B emptied mandatory", "POST", "B:trackers/{tid}/items/{item}", [("fields[title]", "")],
         "editor", 409),
    ],
    "edit_field": [
        ("missing fieldId", "POST", "A:tracker/edit_field", [("trackerId", "{tid}")],
         "admin", 400),
        ("non-numeric fieldId", "POST", "A:tracker/edit_field",
         [("trackerId", "{tid}"), ("fieldId", "title")], "admin", 400),
        ("unknown field", "POST", "A:tracker/edit_field",
         [("trackerId", "{tid}"), ("fieldId", "999999")], "admin", 404),
        ("rename", "POST", "A:tracker/edit_field",
         [("trackerId", "{tid}"), ("fieldId", "{field}"), ("name", "Renamed")], "admin", 403),
        ("anonymous", "POST", "A:tracker/edit_field",
         [("trackerId", "{tid}"), ("fieldId", "{field}")], None, 403),
        ("B non-numeric", "POST", "B:trackers/{tid}/fields/x", [], "admin", 400),
        ("B rename", "POST", "B:trackers/{tid}/fields/{field}", [("name", "Renamed")],
         "admin", 403),
        ("B DELETE", "DELETE", "B:trackers/{tid}/fields/{field}", [], "admin", 405),
    ],
    "list_users": [
        ("non-numeric offset", "POST", "A:user/list_users", [("offset", "x")], "viewer", 400),
        ("nested groupIds", "POST", "A:user/list_users", [("groupIds[0][1]", "2")],
         "viewer", 400),
        ("anonymous", "POST", "A:user/list_users", [], None, 403),
        ("B maxRecords", "GET", "B:users?maxRecords=lots", [], "viewer", 400),
        ("B POST", "POST", "B:users", [], "viewer", 405),
    ],
    "list_categories": [
        ("non-numeric parentId", "POST", "A:category/list_categories", [("parentId", "top")],
         "viewer", 400),
        ("anonymous", "POST", "A:category/list_categories", [], None, 403),
        ("B DELETE", "DELETE", "B:categories", [], "viewer", 405),
    ],
    "translation": [
        ("missing source", "POST", "A:translation/manage", [("type", "trackeritem")],
         "viewer", 400),
        ("non-numeric source", "POST", "A:translation/manage",
         [("type", "trackeritem"), ("source", "x")], "viewer", 400),
        ("unknown item", "POST", "A:translation/manage",
         [("type", "trackeritem"), ("source", "999999")], "viewer", 404),
        ("B other type", "GET", "B:translations/wiki page/1", [], "viewer", 404),
    ],
    "dispatch": [
        ("unknown controller", "POST", "A:nosuch/list_items", [], "admin", 404),
        ("unknown action", "POST", "A:tracker/delete_item", [], "admin", 404),
        ("clone-side controller", "POST", "A:tracker_sync/sync_refresh", [], "admin", 404),
        ("missing controller", "POST", "A:/list_items", [], "admin", 400),
        ("unknown route", "GET", "B:trackers/{tid}/comments", [], "admin", 404),
        ("empty route", "GET", "B:", [], "admin", 404),
        ("DELETE an item", "DELETE", "B:trackers/{tid}/items/{item}", [], "admin", 405),
    ],
}


def _target(master, where, ids):
    generation, _, rest = where.partition(":")
    rest = rest.format(**ids)
    if generation == "A":
        controller, _, action = rest.partition("/")
        args = {k: v for k, v in (("controller", controller), ("action", action)) if v}
        return url(master.app, "tikisync_master.ajax_services", **args)
    path, _, query = rest.partition("?")
    target = url(master.app, "tikisync_master.api") + "?route=" + path
    return target + ("&" + query if query else "")


def _headers(master, generation, who):
    if isinstance(who, dict):
        return who
    if who is None:
        return {}
    return basic(who) if generation == "A" else bearer(master.tokens[who])


def send(master, case, ids):
    name, method, where, body, who, _ = case
    headers = {**ACCEPT, **_headers(master, where[0], who)}
    if isinstance(body, str):  # a JSON body
        data, content_type = body.replace("{tid}", str(ids["tid"])), "application/json"
    else:
        data = urlencode([(k, v.format(**ids)) for k, v in body])
        content_type = FORM
    return master.client.open(_target(master, where, ids), method=method, data=data,
                              content_type=content_type, headers=headers)


@pytest.mark.parametrize("action", sorted(CASES))
def test_bad_inputs_get_their_status_and_change_nothing(master, action):
    other = make_demo("Other", fields=[("title", "Title", "t", {}, False, "")])
    ids = {"tid": master.tracker.id, "item": master.item_ids[0],
           "foreign": add_items(other, [("o", {"title": "elsewhere"})])[0],
           "field": master.tracker.ordered_fields()[0].id}
    for role in master.tokens:  # record each token's first use before the snapshot
        master.b[role].get("version")
    before = snapshot()
    wrong = []
    for case in CASES[action]:
        response = send(master, case, ids)
        expected = case[-1]
        body = response.get_json(silent=True)
        if response.status_code != expected or response.mimetype != "application/json" \
                or not body or body.get("code") != expected \
                or not {"code", "errortitle", "message"} <= set(body):
            wrong.append((case[0], case[2], expected, response.status_code,
                          response.get_data(as_text=True)[:200]))
        if expected == 401:
            assert "WWW-Authenticate" in response.headers, case[0]
        if expected == 405:
            assert response.headers.get("Allow"), case[0]
    changed = snapshot() != before
    record("input", "master API: pinned bad cases", len(CASES[action]),
           errors_500=sum(w[3] >= 500 for w in wrong), unclear=len(wrong), lost=int(changed),
           note="unclear = wrong status or shape; lost = rows changed")
    assert wrong == []
    assert not changed


ATOMS = ["", "1", "-1", "99999999999999999999", "abc", "\u00b2", "\u0663", " 1 ", "opc", "raw",
         "a,b", "2024-01-01", "[", "]", "\x01", "y", "editor", "\U0001d11e" * 3, "z" * 70000]
NAMES = ["trackerId", "itemId", "fieldId", "offset", "maxRecords", "status", "format",
         "modifiedSince", "groupIds", "parentId", "type", "source", "name", "fields[title]",
         "fields[amount]", "fields[due]", "fields[team]", "fields[assignee]", "fields[nosuch]",
         "fields[]", "fields[title][]", "fields[title][a][b]", "fields[", "itemId[]", "x]"]
TARGETS = ["A:tracker/list_trackers", "A:tracker/export_fields", "A:tracker/list_items",
           "A:tracker/insert_item", "A:tracker/update_item", "A:tracker/edit_field",
           "A:user/list_users", "A:category/list_categories", "A:translation/manage",
           "B:trackers", "B:trackers/{tid}", "B:trackers/{tid}/items",
           "B:trackers/{tid}/items/{item}", "B:trackers/{tid}/fields/{field}", "B:users",
           "B:categories", "B:translations/trackeritem/{item}", "B:version"]


def test_random_inputs_never_get_a_500_or_html(master):
    """A seeded shower of parameter soup: whatever the status, it is JSON and not a 500."""
    import random

    rnd = random.Random(20261127)
    ids = {"tid": master.tracker.id, "item": master.item_ids[0], "foreign": 0,
           "field": master.tracker.ordered_fields()[0].id}
    failures = []
    for _ in range(300):
        body = [("trackerId", "{tid}")] if rnd.random() < 0.7 else []
        body += [(rnd.choice(NAMES), rnd.choice(ATOMS)) for _ in range(rnd.randint(0, 5))]
        case = ("random", rnd.choice(["GET", "POST", "POST", "PUT", "HEAD"]),
                rnd.choice(TARGETS), body, rnd.choice(["admin", "viewer", None]), None)
        response = send(master, case, ids)
        if response.status_code >= 500 or (case[1] != "HEAD" and
                                            response.mimetype != "application/json"):
            failures.append((case[1], case[2], body, response.status_code))
    record("input", "master API: seeded random parameters", 300,
           errors_500=sum(f[3] >= 500 for f in failures), unclear=len(failures))
    assert failures == []
