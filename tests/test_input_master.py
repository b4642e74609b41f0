"""Bad input on every master endpoint (issue 12, "What to build": bad input), property-based:
every Gen A action of tiki-ajax_services.php and every Gen B route of tiki-api.php (the tables
of master/actions.py), sent what Tiki's clients send and what nobody should.

- Whatever is sent (any method, any parameters and bracket names, a form or a JSON body, any
  credentials): never a 500, never a traceback, always JSON, and an error always in Tiki's
  shape with its own status as `code`.
- A write with one invalid element (a number in letters, a choice that
  does not exist, a value too long, a bad status or id, a NUL, a nested value): a 4xx, and not
  one row of the database changed.

test_master_bad_inputs.py pins the status of each known case; this explores around them.
"""
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.master_api import ACCEPT, FORM, basic, bearer, php_query, snapshot
from tests.support.pages import url
from tests.support.properties import examples, hostile, tallied
from tikisync_web.fields import MAX_VALUE_LENGTH
from tikisync_web.master.actions import ACTIONS, ROUTES

pytestmark = pytest.mark.reliability

PERMS = ["title", "amount", "priority", "assignee", "due", "done", "team", "notes", "section"]
NAMES = ["trackerId", "itemId", "fieldId", "offset", "maxRecords", "status", "format",
         "modifiedSince", "groupIds", "parentId", "type", "source", "name", "descends",
         "fields", "fields[]", "itemId[]", "status[]", "groupIds[]", "x[", "x]", "a[b][c][d][e]",
         "fields[title][]", "fields[title][a][b]"] + [f"fields[{p}]" for p in PERMS]
METHODS = ["GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD"]
TARGETS = [("A", controller, action) for controller, action in ACTIONS] + \
          [("B", route.pattern, None) for route in ROUTES]

names = st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=12),
                  st.builds(lambda n, k: f"{n}[{k}]", st.sampled_from(NAMES[:10]),
                            st.text(max_size=8)))
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(),
                                     st.floats(allow_nan=True), hostile),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(hostile, inner, max_size=3)),
                           max_leaves=8)


def path_of(pattern, ids, draw_piece):
    """A Gen B route with its placeholders filled: real ids, or anything."""
    parts = []
    for piece in pattern.split("/"):
        if piece.startswith("{"):
            parts.append(draw_piece(ids.get(piece[1:-1], "1")))
        else:
            parts.append(piece)
    return "/".join(parts)


def target_url(master, generation, first, second, path):
    if generation == "A":
        return url(master.app, "tikisync_master.ajax_services", controller=first, action=second)
    return url(master.app, "tikisync_master.api") + "?route=" + path


def auth_header(master, who):
    if who == "none":
        return {}
    if who == "bad basic":
        return basic("admin", "not the password")
    if who == "bad bearer":
        return bearer("tks_not-a-token")
    if who == "garbage":
        return {"Authorization": "Basic \u00e9\u00e9 !!"}
    role, kind = who.split()
    return basic(role) if kind == "basic" else bearer(master.tokens[role])


WHO = ["none", "bad basic", "bad bearer", "garbage", "admin basic", "viewer basic",
       "editor bearer", "admin bearer"]


def ids_of(master):
    return {"trackerId": str(master.tracker.id), "itemId": str(master.item_ids[0]),
            "fieldId": str(master.tracker.ordered_fields()[0].id), "type": "trackeritem",
            "source": str(master.item_ids[0])}


def check(tally, response, method):
    tally["cases"] += 1
    body = response.get_data(as_text=True)
    tally["errors_500"] += response.status_code >= 500
    assert response.status_code < 500, body[:2000]
    assert "Traceback (most recent call last)" not in body
    if method == "HEAD":
        return
    assert response.mimetype == "application/json", body[:300]
    if response.status_code >= 400:
        answer = response.get_json()
        clear = isinstance(answer, dict) and answer.get("code") == response.status_code \
            and bool(answer.get("message")) and "errortitle" in answer
        tally["unclear"] += not clear
        assert clear, body[:500]


@st.composite
def requests_(draw, master):
    generation, first, second = draw(st.sampled_from(TARGETS))
    ids = ids_of(master)
    path = path_of(first, ids, lambda real: draw(st.one_of(st.just(real), hostile.filter(
        lambda s: s and "/" not in s and "#" not in s and "?" not in s and "&" not in s))))
    method = draw(st.sampled_from(METHODS))
    pairs = draw(st.lists(st.tuples(names, hostile), max_size=6))
    if draw(st.booleans()):
        pairs.insert(0, ("trackerId", ids["trackerId"]))
    body = None
    if method not in ("GET", "HEAD") and draw(st.integers(0, 3)) == 0:
        body = json.dumps(draw(st.dictionaries(hostile, json_values, max_size=4)))
    who = draw(st.sampled_from(WHO))
    return generation, first, second, path, method, pairs, body, who


def test_anything_sent_to_the_master_is_answered_in_json_never_a_500(master):
    address = iter(range(1, 10**6))
    with tallied("input", "master API: anything, Gen A and Gen B",
                 f"{len(ACTIONS)} actions, {len(ROUTES)} routes") as tally:
        @examples(40, 600)
        @given(requests_(master))
        @example(("A", "tracker", "list_trackers", "", "POST",
                  [("x[" + "9" * 4300 + "]", "1")], None, "admin basic"))
        @example(("A", "tracker", "list_items", "", "POST",
                  [("trackerId", str(2**63)), ("groupIds[]", "9" * 5000)], None, "admin basic"))
        @example(("B", "trackers/{trackerId}", None, "trackers/" + "9" * 4300, "GET", [], None,
                  "admin bearer"))
        def run(req):
            generation, first, second, path, method, pairs, body, who = req
            target = target_url(master, generation, first, second, path)
            query = php_query(dict(pairs)) if method in ("GET", "HEAD") else ""
            if query:
                target += ("&" if "?" in target else "?") + query
            headers = {**ACCEPT, **auth_header(master, who)}
            # A wrong password from many places, so the throttle leaves the others working.
            environ = {"REMOTE_ADDR": f"10.9.{next(address) % 250}.{next(address) % 250}"} \
                if who.startswith("bad") else {}
            if body is not None:
                response = master.client.open(target, method=method, data=body,
                                              content_type="application/json", headers=headers,
                                              environ_base=environ)
            else:
                data = "" if method in ("GET", "HEAD") else php_query(dict(pairs))
                response = master.client.open(target, method=method, data=data,
                                              content_type=FORM, headers=headers,
                                              environ_base=environ)
            check(tally, response, method)

        run()


# --- invalid writes --------------------------------------------------------------------------

INVALID = {
    "letters in a number": st.sampled_from(["abc", "1,5", "\u0663", "--2", "1e"]).map(
        lambda v: [("fields[amount]", v)]),
    "a choice that does not exist": hostile.filter(
        lambda v: v.strip() not in ("", "low", "medium", "high")).map(
        lambda v: [("fields[priority]", v)]),
    "a value too long": st.integers(1, 40).map(
        lambda n: [("fields[notes]", "z" * (MAX_VALUE_LENGTH + n))]),
    "a status that is not o, p or c": hostile.filter(
        lambda v: v.strip() not in ("", "o", "p", "c") and "\x00" not in v).map(
        lambda v: [("status", v)]),
    "a NUL": st.sampled_from(PERMS[:3]).map(lambda p: [(f"fields[{p}]", "a\x00b")]),
    "a nested value": st.sampled_from(PERMS[:3]).map(lambda p: [(f"fields[{p}][a][b]", "x")]),
    "a date that is no date": st.sampled_from(["2024-02-30", "tomorrow", "9" * 5000]).map(
        lambda v: [("fields[due]", v)]),
}
WRITES = [("A", "insert_item"), ("A", "update_item"), ("B", "insert_item"),
          ("B", "update_item")]


def write_target(master, generation, action, ids):
    if generation == "A":
        return target_url(master, "A", "tracker", action, "")
    path = f"trackers/{ids['trackerId']}/items"
    if action == "update_item":
        path += f"/{ids['itemId']}"
    return target_url(master, "B", None, None, path)


def test_an_invalid_write_is_refused_and_changes_nothing(master):
    ids = ids_of(master)
    for role in master.tokens:  # record each token's first use before any snapshot
        master.b[role].get("version")
    with tallied("input", "master API: an invalid write changes nothing",
                 "insert and update, Gen A and Gen B; lost = rows changed") as tally:
        @examples(16, 300)
        @given(st.sampled_from(WRITES), st.sampled_from(sorted(INVALID)).flatmap(
            lambda kind: st.tuples(st.just(kind), INVALID[kind])),
            st.lists(st.tuples(st.sampled_from(PERMS[:3]), st.sampled_from(
                ["x", "12", "low", ""])), max_size=2))
        @example(WRITES[0], ("a date that is no date", [("fields[due]", "9" * 5000)]), [])
        @example(WRITES[3], ("letters in a number", [("fields[amount]", "\u0663")]), [])
        def run(write, invalid, good):
            (generation, action), (kind, bad) = write, invalid
            pairs = [("trackerId", ids["trackerId"])]
            if action == "update_item":
                pairs.append(("itemId", ids["itemId"]))
            pairs += [(f"fields[{perm}]", value) for perm, value in good]
            pairs += [("fields[title]", "still valid")] + bad
            headers = {**ACCEPT, **(basic("editor") if generation == "A"
                                    else bearer(master.tokens["editor"]))}
            before = snapshot()
            response = master.client.post(write_target(master, generation, action, ids),
                                          data=php_query(dict(pairs)), content_type=FORM,
                                          headers=headers)
            check(tally, response, "POST")
            changed = snapshot() != before
            tally["changed"] += changed
            assert 400 <= response.status_code < 500, (kind, response.get_data(as_text=True))
            assert not changed, kind

        run()
