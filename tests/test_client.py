"""TikiClient against the fake master over real loopback HTTP: every call, both generations."""
import pytest

from tests.support.fake_master import PASSWORD, TOKEN, USER
from tests.support.remote_client import api_requests, make_client
from tikisync_web.remote.auth import BasicAuth, BearerAuth, HeaderAuth
from tikisync_web.remote.client import TikiClient, form_pairs


@pytest.fixture(params=["A", "B"])
def gen(request):
    return request.param


@pytest.fixture
def client(fake_master, gen):
    with make_client(fake_master, gen) as c:
        yield c


def test_list_trackers(client, fake_master, gen):
    assert client.list_trackers() == [
        {"id": 1, "name": "SyncDemo", "description": "Demo tracker for sync tests", "items": 3}]
    request = api_requests(fake_master)[-1]
    assert request.header("Accept") == "application/json"
    if gen == "A":
        assert (request.method, request.path) == ("POST", "/tiki/tiki-ajax_services.php")
        assert request.query == {"controller": ["tracker"], "action": ["list_trackers"]}
        assert request.authorization.startswith("Basic ")
    else:
        assert (request.method, request.path) == ("GET", "/tiki/tiki-api.php")
        assert request.query == {"route": ["trackers"]}
        assert request.authorization == "Bearer " + TOKEN


def test_ids_and_counts_sent_as_strings(client, fake_master):
    fake_master.settings.strings = True
    assert client.list_trackers()[0] == {"id": 1, "name": "SyncDemo",
                                          "description": "Demo tracker for sync tests",
                                          "items": 3}
    items = list(client.iter_items(1))
    assert [i["itemId"] for i in items] == [1, 2, 3]
    assert client.list_users()[0] == {"login": "admin", "userId": 1}
    assert client.edit_field(1, 2)["fieldId"] == 2
    assert client.list_categories()[0]["categId"] == 1


def test_tracker_list_from_list_only_and_empty(client, fake_master):
    fake_master.settings.require_auth = True
    anonymous = TikiClient(fake_master.url, generation=client.generation, backoff=0, timeout=5)
    # Anonymous: Tiki answers `"list": []` (PHP's empty array) and no data.
    assert anonymous.list_trackers() == []


def test_export_fields(client, fake_master):
    text, fields = client.export_fields(1)
    assert text.startswith("[FIELD1]\n")
    assert [f["permName"] for f in fields] == ["title", "amount", "priority", "assignee", "number"]
    assert fields[0]["isMandatory"] is True
    assert fields[2]["options"] == {"options": ["low", "medium", "high"]}


def test_export_fields_tiki_9_typo_and_csv_options(client, fake_master):
    fake_master.settings.legacy_export = True
    text, fields = client.export_fields(1)
    assert "sMandatory = y" in text
    assert fields[0]["isMandatory"] is True
    assert fields[2]["options"]["options"] == ["low", "medium", "high"]


def test_iter_items_normalises_every_spelling_of_empty(client, fake_master):
    for spelling in ("", False, None, []):
        fake_master.settings.empty = spelling
        items = list(client.iter_items(1))
        assert items[2] == {"itemId": 3, "status": "c", "lastModif": None, "created": None,
                            "fields": {"title": "Third item", "amount": "-7.25",
                                       "priority": "medium", "assignee": "", "number": "102"}}


def test_iter_items_with_fields_as_empty_array(make_master, gen):
    # A tracker without fields: PHP sends `"fields": []` where an object is meant.
    master = make_master(fields=[], items=[("o", {}), ("p", {})])
    with make_client(master, gen) as c:
        assert [(i["itemId"], i["fields"]) for i in c.iter_items(1)] == [(1, {}), (2, {})]


def test_iter_items_request_shape(client, fake_master, gen):
    list(client.iter_items(1, status="oc", modified_since=1700000000, page_size=50))
    first = [r for r in api_requests(fake_master)][0]
    params = {**first.query, **first.form}
    assert params["format"] == ["raw"]
    assert params["status"] == ["oc"]
    assert params["modifiedSince"] == ["1700000000"]
    assert params["offset"] == ["0"] and params["maxRecords"] == ["50"]
    if gen == "A":
        assert params["trackerId"] == ["1"] and first.method == "POST"
    else:
        assert params["route"] == ["trackers/1"] and first.method == "GET" and not first.body


def test_iter_items_filters(client, fake_master):
    assert [i["itemId"] for i in client.iter_items(1, status="pc")] == [2, 3]
    fake_master.settings.clock = 2_000_000_000
    fake_master.add_item(1, {"title": "later"})
    assert [i["itemId"] for i in client.iter_items(1, modified_since=1_999_999_999)] == [4]


def test_iter_items_by_id_on_a_tiki_that_ignores_the_filter(client, fake_master):
    for n in range(10):
        fake_master.add_item(1, {"title": f"extra {n}"})
    got = list(client.iter_items(1, item_ids=[2, 5], page_size=3))
    assert [i["itemId"] for i in got] == [2, 5]
    # The filter was sent (our own master uses it) ...
    sent = {**api_requests(fake_master)[0].query, **api_requests(fake_master)[0].form}
    assert sent["itemId[]"] == ["2", "5"]
    # ... and the client stopped reading once both were found (pages 1-2 of 3 items).
    assert len(api_requests(fake_master)) == 2


def test_iter_items_by_id_on_our_master(client, fake_master):
    fake_master.settings.item_id_filter = True
    assert [i["itemId"] for i in client.iter_items(1, item_ids={3, 1, 99})] == [1, 3]
    assert list(client.iter_items(1, item_ids=[])) == []


def test_items_carry_lastmodif_and_created_when_the_master_sends_them(client, fake_master):
    fake_master.settings.with_times = True
    item = next(iter(client.iter_items(1)))
    assert isinstance(item["lastModif"], int) and isinstance(item["created"], int)


def test_insert_item(client, fake_master, gen):
    created = client.insert_item(1, "p", {"title": "Fifth", "amount": "0.5", "priority": ""})
    assert created["itemId"] == 4 and created["status"] == "p"
    assert created["fields"]["title"] == "Fifth"
    assert fake_master.items[4]["fields"]["amount"] == "0.5"
    request = api_requests(fake_master)[-1]
    assert request.method == "POST"
    assert request.form["fields[title]"] == ["Fifth"]
    assert request.form["fields[priority]"] == [""]  # an empty value is sent, not dropped
    assert "itemId" not in request.form and "itemId" not in request.query
    if gen == "B":
        assert request.query == {"route": ["trackers/1/items"]}


def test_insert_item_with_string_ids(client, fake_master):
    fake_master.settings.strings = True
    assert client.insert_item(1, "o", {"title": "x"})["itemId"] == 4


def test_update_item(client, fake_master, gen):
    result = client.update_item(1, 2, "c", {"amount": "4"})
    assert result["itemId"] == 2 and result["status"] == "c"
    assert fake_master.items[2]["fields"] == {
        "title": "Second item", "amount": "4", "priority": "low", "assignee": "carol",
        "number": "101"}
    request = api_requests(fake_master)[-1]
    if gen == "A":
        assert request.form["itemId"] == ["2"] and request.form["trackerId"] == ["1"]
    else:
        # The remote id is in the path only: a body itemId would win over it (W12).
        assert request.query == {"route": ["trackers/1/items/2"]}
        assert "itemId" not in request.form


def test_list_users_every_page_without_hashes(client, fake_master):
    fake_master.settings.max_records_cap = 2
    users = client.list_users()
    assert users == [{"login": "admin", "userId": 1}, {"login": "bob", "userId": 2},
                     {"login": "carol", "userId": 3}]
    assert len(api_requests(fake_master)) == 2  # 2 rows (the cap), then 1: a short page


def test_list_users_by_group(client, fake_master):
    assert [u["login"] for u in client.list_users(group_ids=[3])] == ["admin", "carol"]
    params = {**api_requests(fake_master)[-1].query, **api_requests(fake_master)[-1].form}
    assert params["groupIds[0]"] == ["3"]


def test_list_categories(client):
    assert client.list_categories() == [{"categId": 1, "name": "Sales", "parentId": 0},
                                        {"categId": 2, "name": "Support", "parentId": 0}]
    assert [c["name"] for c in client.list_categories(descends=True)] == [
        "Sales", "Support", "EMEA", "Paris"]
    assert [c["name"] for c in client.list_categories(1)] == ["EMEA"]
    assert [c["name"] for c in client.list_categories(1, descends=True)] == ["EMEA", "Paris"]
    assert client.list_categories(4) == []  # `[]` where an object keyed by id is meant


def test_edit_field_reads_without_changing(client, fake_master, gen):
    field = client.edit_field(1, 3)
    assert field["permName"] == "priority" and field["type"] == "d"
    request = api_requests(fake_master)[-1]
    assert "name" not in request.form
    if gen == "B":
        assert request.method == "POST" and request.query["route"] == ["trackers/1/fields/3"]


def test_last_server_time_is_the_masters_clock(client, fake_master):
    assert client.last_server_time is None
    fake_master.settings.clock = 1_234_567_890
    client.list_trackers()
    assert client.last_server_time == 1_234_567_890


def test_detect_gen_b_with_a_bearer_token(fake_master):
    auth = BearerAuth(fake_master.url, TOKEN, allow_http=True)
    with TikiClient(fake_master.url, auth=auth, backoff=0) as c:
        assert c.detect() == "B" and c.version == "24.1"
        assert len(c.list_trackers()) == 1
    assert fake_master.requests[0].query == {"route": ["version"]}


def test_detect_gen_b_before_the_version_route(fake_master):
    fake_master.settings.version = None  # 404, then route=trackers answers
    auth = HeaderAuth(fake_master.url, "Bearer " + TOKEN, allow_http=True)
    with TikiClient(fake_master.url, auth=auth, backoff=0) as c:
        assert c.generation == "B" and c.version is None


def test_detect_gen_a_when_there_is_no_api(fake_master):
    fake_master.settings.generations = "A"
    auth = BearerAuth(fake_master.url, TOKEN, allow_http=True)
    with TikiClient(fake_master.url, auth=auth, backoff=0) as c:
        assert c.generation == "A"


def test_no_probe_without_a_bearer_credential_or_with_a_fixed_generation(fake_master):
    auth = BasicAuth(fake_master.url, USER, PASSWORD, allow_http=True)
    assert TikiClient(fake_master.url, auth=auth).generation == "A"
    bearer = BearerAuth(fake_master.url, TOKEN, allow_http=True)
    assert TikiClient(fake_master.url, auth=bearer, generation="A").generation == "A"
    assert fake_master.requests == []


def test_base_url_is_normalised(fake_master):
    assert TikiClient(fake_master.url + "/tiki-index.php").base_url == fake_master.url
    assert TikiClient(fake_master.url + "/").base_url == fake_master.url
    with pytest.raises(ValueError):
        TikiClient(fake_master.url, generation="C")


def test_form_pairs_follow_php():
    assert form_pairs({"a": None, "b": True, "c": {"x": "1", "y": ["p", "q"]}, "d[]": [1, 2],
                       "e": [3]}) == [
        ("b", "1"), ("c[x]", "1"), ("c[y][0]", "p"), ("c[y][1]", "q"), ("d[]", "1"),
        ("d[]", "2"), ("e[0]", "3")]


def test_keep_alive_one_connection(client, fake_master):
    for _ in range(5):
        client.list_trackers()
    ports = {r.header("Host") for r in api_requests(fake_master)}
    assert len(ports) == 1
