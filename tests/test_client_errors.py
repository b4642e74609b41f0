"""Every typed error of the client, each from a real answer (or silence) of the fake master."""
import socket

import pytest

from tests.support.fake_master import USER, self_signed_cert
from tests.support.remote_client import api_requests, make_client
from tikisync_web.remote import errors
from tikisync_web.remote.auth import BasicAuth
from tikisync_web.remote.client import TikiClient
from tikisync_web.remote.urls import OriginPolicy


@pytest.fixture(params=["A", "B"])
def gen(request):
    return request.param


def test_401_wrong_password(fake_master):
    auth = BasicAuth(fake_master.url, USER, "wrong-password", allow_http=True, identifier="prod")
    with TikiClient(fake_master.url, auth=auth, generation="A") as c, \
            pytest.raises(errors.Unauthorized) as caught:
        c.list_trackers()
    assert str(caught.value) == (f"{fake_master.url} refused the credential 'prod' (401): "
                                 f"check the credential for {fake_master.url}")
    assert caught.value.status == 401 and caught.value.url.startswith(fake_master.url)


def test_401_without_credential(fake_master):
    fake_master.settings.answer_status = 401
    with TikiClient(fake_master.url) as c, pytest.raises(errors.Unauthorized) as caught:
        c.list_trackers()
    assert "add a credential for" in str(caught.value)


def test_403_needs_tracker_admin(fake_master, gen):
    fake_master.settings.limited_users = {USER, "admin"}
    with make_client(fake_master, gen) as c, pytest.raises(errors.Forbidden) as caught:
        list(c.iter_items(1))
    message = str(caught.value)
    assert "Reserved for tracker administrators" in message
    assert "the account needs tracker-admin rights" in message
    assert caught.value.status == 403


def test_403_anonymous_says_no_credential_applies(fake_master):
    with TikiClient(fake_master.url, generation="B") as c, \
            pytest.raises(errors.Forbidden) as caught:
        c.export_fields(1)
    assert "no credential applies" in str(caught.value)


def test_404_unknown_tracker(fake_master, gen):
    with make_client(fake_master, gen) as c, pytest.raises(errors.NotFound) as caught:
        c.export_fields(999)
    assert "Not found (404)" in str(caught.value) and "check the tracker" in str(caught.value)


def test_404_update_of_an_item_of_another_tracker(fake_master, gen):
    with make_client(fake_master, gen) as c, pytest.raises(errors.NotFound):
        c.update_item(1, 999, "o", {"title": "x"})


def test_validation_error_names_the_field(fake_master, gen):
    with make_client(fake_master, gen) as c, \
            pytest.raises(errors.RemoteValidationError) as caught:
        c.insert_item(1, "o", {"amount": "3"})  # title is mandatory
    assert caught.value.status == 409 and caught.value.field == "title"
    assert "Field Required" in str(caught.value) and "<!--" not in str(caught.value)


def test_html_login_page_with_200(fake_master, gen):
    fake_master.settings.html_login = True
    with make_client(fake_master, gen) as c, pytest.raises(errors.NotJson) as caught:
        c.list_trackers()
    assert caught.value.html and "HTML page instead of JSON" in str(caught.value)
    assert caught.value.status == 200


def test_truncated_json(fake_master, gen):
    fake_master.settings.truncate_json = True
    with make_client(fake_master, gen) as c, pytest.raises(errors.NotJson) as caught:
        list(c.iter_items(1))
    assert "invalid or truncated JSON" in str(caught.value) and not caught.value.html


@pytest.mark.parametrize("shape", ["object", "null", "missing"])
def test_result_that_is_not_a_list(fake_master, gen, shape):
    fake_master.settings.result_shape = shape
    with make_client(fake_master, gen) as c, pytest.raises(errors.BadShape) as caught:
        list(c.iter_items(1))
    assert "result" in str(caught.value)


def test_users_result_null_means_not_allowed(fake_master, gen):
    fake_master.settings.result_shape = "null"
    with make_client(fake_master, gen) as c, pytest.raises(errors.Forbidden) as caught:
        c.list_users()
    assert "list its users" in str(caught.value)


def test_missing_item_id_after_insert(fake_master, gen):
    fake_master.settings.insert_without_id = True  # Tiki 19-23 without a CSRF ticket
    with make_client(fake_master, gen) as c, pytest.raises(errors.MissingItemId) as caught:
        c.insert_item(1, "o", {"title": "x"})
    assert "itemId=0" in str(caught.value)
    assert len(fake_master.items) == 3


def test_insert_with_no_fields_is_missing_item_id(fake_master, gen):
    with make_client(fake_master, gen) as c, pytest.raises(errors.MissingItemId):
        c.insert_item(1, "o", {})


def test_timeout_is_bounded(fake_master, gen):
    fake_master.settings.delay = 1.0
    with make_client(fake_master, gen, timeout=0.3, retries=0) as c, \
            pytest.raises(errors.Timeout) as caught:
        c.list_trackers()
    assert "did not answer within 0.3 s" in str(caught.value)
    assert not caught.value.maybe_written


def test_timeout_on_a_write_says_it_may_have_happened(fake_master, gen):
    fake_master.settings.delay = 1.0
    with make_client(fake_master, gen, timeout=0.3) as c, \
            pytest.raises(errors.Timeout) as caught:
        c.insert_item(1, "o", {"title": "slow"})
    assert caught.value.maybe_written and "may have been applied" in str(caught.value)
    assert len(fake_master.requests_to("ajax_services.php" if gen == "A" else "api.php")) == 1


def test_lost_reply_after_insert_is_not_retried(fake_master, gen):
    fake_master.settings.lose_insert_reply = True
    with make_client(fake_master, gen) as c, pytest.raises(errors.ConnectionFailed) as caught:
        c.insert_item(1, "o", {"title": "lost"})
    assert caught.value.maybe_written
    assert "the connection closed before the answer" in str(caught.value)
    assert [i["fields"]["title"] for i in fake_master.items.values()][-1] == "lost"
    assert len(api_requests(fake_master)) == 1  # writes are never sent twice


def test_writes_are_not_retried_on_503(fake_master, gen):
    fake_master.settings.fail_requests = {1}
    with make_client(fake_master, gen) as c, pytest.raises(errors.ServerError) as caught:
        c.update_item(1, 1, "o", {"title": "x"})
    assert caught.value.status == 503 and caught.value.maybe_written
    assert len(api_requests(fake_master)) == 1


def test_reads_are_retried_on_503(fake_master, gen):
    fake_master.settings.fail_requests = {1, 2}
    with make_client(fake_master, gen) as c:
        assert len(c.list_trackers()) == 1
    assert len(api_requests(fake_master)) == 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_after_retries():
    url = f"http://127.0.0.1:{free_port()}/tiki"
    with TikiClient(url, backoff=0, retries=2) as c, \
            pytest.raises(errors.ConnectionFailed) as caught:
        c.list_trackers()
    assert "connection refused" in str(caught.value) and not caught.value.maybe_written


def test_connection_refused_on_a_write_was_not_written():
    url = f"http://127.0.0.1:{free_port()}/tiki"
    with TikiClient(url, backoff=0, generation="A") as c, \
            pytest.raises(errors.ConnectionFailed) as caught:
        c.insert_item(1, "o", {"title": "x"})
    assert not caught.value.maybe_written


def test_tls_failure_and_the_ca_bundle(make_master, tmp_path):
    cert, key = self_signed_cert(tmp_path)
    master = make_master(tls=(cert, key), require_auth=False)
    assert master.url.startswith("https://")
    with TikiClient(master.url, backoff=0) as c, pytest.raises(errors.TlsError) as caught:
        c.list_trackers()
    assert "could not be verified" in str(caught.value)
    assert "TIKISYNC_CA_BUNDLE" in str(caught.value)
    with TikiClient(master.url, verify=cert) as c:  # the private CA given: verified
        assert c.list_trackers()[0]["name"] == "SyncDemo"


def test_missing_ca_bundle_file(make_master, tmp_path):
    cert, key = self_signed_cert(tmp_path)
    master = make_master(tls=(cert, key), require_auth=False)
    with TikiClient(master.url, verify=str(tmp_path / "nope.pem")) as c, \
            pytest.raises(errors.TlsError) as caught:
        c.list_trackers()
    assert "TIKISYNC_CA_BUNDLE" in str(caught.value)


def test_outbound_policy_refuses_before_any_request(fake_master):
    policy = OriginPolicy({"https://tiki.example.org"})
    with TikiClient(fake_master.url, outbound=policy) as c, \
            pytest.raises(errors.OutboundRefused) as caught:
        c.list_trackers()
    assert f"{fake_master.origin} is not an allowed remote site" in str(caught.value)
    assert fake_master.requests == []


def test_redirect_of_a_write_is_refused(make_master, gen):
    target = make_master()
    master = make_master(redirect_to=target.origin)
    with make_client(master, gen) as c, pytest.raises(errors.RedirectRefused):
        c.insert_item(1, "o", {"title": "x"})
    assert target.requests == [] and len(target.items) == 3


def test_redirect_loop_is_bounded(make_master):
    master = make_master()
    master.settings.redirect_to = master.origin
    with TikiClient(master.url, backoff=0) as c, pytest.raises(errors.RedirectRefused) as caught:
        c.list_trackers()
    assert "redirects more than" in str(caught.value)
    assert len(master.requests) == 6


def test_every_error_is_a_remote_error():
    for name in ("Unauthorized", "Forbidden", "NotFound", "RemoteValidationError", "NotJson",
                 "BadShape", "MissingItemId", "Timeout", "TlsError", "ConnectionFailed",
                 "OutboundRefused", "OffsetIgnored", "ServerError", "InsecureTransport",
                 "RedirectRefused"):
        assert issubclass(getattr(errors, name), errors.RemoteError)


def test_redirect_to_another_scheme_is_refused(fake_master):
    fake_master.settings.redirect_to = "file://"
    with TikiClient(fake_master.url, backoff=0) as c, \
            pytest.raises(errors.RedirectRefused) as caught:
        c.list_trackers()
    assert "not an http(s) URL" in str(caught.value) and len(fake_master.requests) == 1


def test_a_read_cut_mid_body_is_retried(fake_master, gen):
    fake_master.faults.arm("cut_mid", on="list_trackers")
    with make_client(fake_master, gen) as c:
        assert [t["name"] for t in c.list_trackers()] == ["SyncDemo"]
    assert fake_master.faults.seen["list_trackers"] == 2


def test_a_read_cut_mid_body_every_time_says_so(fake_master, gen):
    fake_master.faults.arm("cut_mid", on="list_items", at=(1, 2, 3))
    with make_client(fake_master, gen, retries=2) as c, \
            pytest.raises(errors.ConnectionFailed) as caught:
        list(c.iter_items(1))
    message = str(caught.value)
    assert "cut in the middle of the answer" in message and "CA_BUNDLE" not in message
    assert not caught.value.maybe_written and message.count("\n") == 0


def test_a_write_cut_mid_body_may_have_been_applied(fake_master, gen):
    fake_master.faults.arm("cut_mid", on="insert_item")
    with make_client(fake_master, gen) as c, pytest.raises(errors.ConnectionFailed) as caught:
        c.insert_item(1, "o", {"title": "cut"})
    message = str(caught.value)
    assert caught.value.maybe_written and "may have been applied" in message
    assert "cut in the middle of the answer" in message and "CA_BUNDLE" not in message
    assert fake_master.faults.seen["insert_item"] == 1  # never sent twice
    assert [i["fields"]["title"] for i in fake_master.items.values()][-1] == "cut"
