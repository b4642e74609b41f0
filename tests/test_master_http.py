"""The master over real loopback HTTP, as a remote Tiki reaches it (requests, not the test
client): headers, status lines and bodies exactly as they leave the server."""
import threading

import pytest
import requests
from werkzeug.serving import make_server

from tests.support.apps import PASSWORD
from tests.support.master_api import php_query
from tests.support.pages import url


@pytest.fixture
def served(master):
    server = make_server("127.0.0.1", 0, master.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    yield master, lambda endpoint, **values: base + url(master.app, endpoint, **values)
    server.shutdown()
    thread.join(timeout=10)


def test_gen_a_over_http(served):
    master, link = served
    target = link("tikisync_master.ajax_services", controller="tracker", action="list_items")
    body = php_query({"trackerId": master.tracker.id, "format": "raw", "offset": 0,
                      "maxRecords": 2})
    headers = {"Accept": "application/json",
               "Content-Type": "application/x-www-form-urlencoded"}
    response = requests.post(target, data=body, headers=headers, auth=("viewer", PASSWORD),
                             timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Date"]  # our clock, which clones use for modifiedSince
    assert [i["itemId"] for i in response.json()["result"]] == master.item_ids[:2]
    wrong = requests.post(target, data=body, headers=headers, auth=("viewer", "wrong"),
                          timeout=10)
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="tikisync"'
    assert wrong.json()["code"] == 401


def test_gen_b_over_http(served):
    master, link = served
    token = {"Authorization": f"Bearer {master.tokens['editor']}", "Accept": "application/json"}
    raw = link("tikisync_master.api") + f"?route=trackers/{master.tracker.id}&format=raw"
    assert len(requests.get(raw, headers=token, timeout=10).json()["result"]) == 3
    created = requests.post(link("tikisync_master.api_path",
                                 route=f"trackers/{master.tracker.id}/items"),
                            data={"fields[title]": "over the wire"}, headers=token, timeout=10)
    assert created.status_code == 200 and created.json()["itemId"]
    head = requests.head(raw, headers=token, timeout=10)
    assert head.status_code == 200
    refused = requests.request("PROPFIND", raw, headers=token, timeout=10)
    assert refused.status_code == 405 and refused.json()["code"] == 405
