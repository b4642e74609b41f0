"""The master under a blueprint prefix and under a WSGI script root: every URL follows."""
from flask import Flask

from tests.support.apps import PASSWORD
from tests.support.master_api import TikiA, TikiB, basic, bearer, make_demo
from tests.support.pages import url
from tikisync_web import TikiSync, accounts
from tikisync_web.db import database


def _host(db_url, tmp_path):
    app = Flask("host", instance_path=str(tmp_path / "host-instance"))
    app.config.update(SECRET_KEY="host", TESTING=True, TIKISYNC_DATABASE=db_url)

    @app.route("/")
    def home():
        return "the host's own page"

    TikiSync(app, url_prefix="/sync")
    return app


def test_under_a_prefix(db_url, tmp_path):
    app = _host(db_url, tmp_path)
    with database.connection_context():
        user = accounts.create_user("reader", "viewer", PASSWORD)
        token = accounts.create_token(user)
    tracker = make_demo()
    client = app.test_client()
    assert url(app, "tikisync_master.ajax_services").startswith("/sync/")
    answer = TikiA(client, basic("reader")).json("list_trackers")
    assert answer["list"] == {str(tracker.id): "SyncDemo"}
    for shape in ("query", "raw", "rewrite"):
        response = TikiB(client, bearer(token), shape=shape).get(f"trackers/{tracker.id}")
        assert response.status_code == 200 and response.get_json()["result"] == []
    wrong_method = client.open(url(app, "tikisync_master.api", route="trackers"), method="TRACE")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["code"] == 405
    assert client.get(url(app, "home")).get_data(as_text=True) == "the host's own page"


def test_under_a_script_root(app, users):
    tracker = make_demo()
    client = app.test_client()
    client.send_csrf = False
    with app.test_request_context(base_url="http://intranet.example/portal"):
        from flask import url_for

        assert url_for("tikisync_master.api_path", route="trackers").startswith("/portal/api/")
    path = url(app, "tikisync_master.ajax_services", controller="tracker", action="list_items")
    response = client.post(path, base_url="http://intranet.example/portal",
                           data={"trackerId": tracker.id, "maxRecords": -1},
                           headers={**basic("viewer"), "Accept": "application/json"})
    assert response.request.environ["SCRIPT_NAME"] == "/portal"
    assert response.status_code == 200 and response.get_json()["trackerId"] == tracker.id
