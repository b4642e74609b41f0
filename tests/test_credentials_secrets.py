"""No secret in any page, log line (DEBUG, urllib3 included), CLI output, error text or audit
record - for every method, on success and on every kind of failure."""
import base64
import json
import logging

import pytest

from tests.support.fake_master import PASSWORD, TOKEN, USER
from tests.support.pages import url
from tikisync_web import credentials as creds
from tikisync_web.models import AuditEvent, Credential
from tikisync_web.remote import errors

HEADER = "Bearer " + TOKEN
SECRETS = [PASSWORD, TOKEN, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()]

METHODS = {  # method -> (username, secret, generation)
    "basic": (USER, PASSWORD, "A"),
    "session": (USER, PASSWORD, "A"),
    "bearer": ("", TOKEN, "B"),
    "header": ("", HEADER, "B"),
}


def assert_clean(text, where):
    for secret in SECRETS:
        assert secret not in text, f"a secret leaked into {where}"


@pytest.fixture
def config(app, db):
    return creds.RemoteConfig.from_app(app, timeout=0.3, backoff=0, retries=1)


def failures(master, sent):
    """Switch the master into each failure in turn; yields a label for each. `sent` is what
    the credential sends, which a careless master might echo in its error message."""
    s = master.settings
    for label, change in [
        ("401", {"answer_status": 401}),
        ("403 echoing the credential", {"answer_status": 403,
                                        "error_message": f"denied: Authorization: {sent}"}),
        ("409 echoing", {"answer_status": 409, "error_message": f"bad value {sent}"}),
        ("html", {"html_login": True}),
        ("truncated", {"truncate_json": True}),
        ("bad shape", {"result_shape": "object"}),
        ("timeout", {"delay": 0.6}),
        ("500", {"fail_status": 500, "fail_requests": set(range(1, 1000))}),
    ]:
        saved = {k: getattr(s, k) for k in change}
        for k, v in change.items():
            setattr(s, k, v)
        yield label
        for k, v in saved.items():
            setattr(s, k, v)


@pytest.mark.parametrize("method", list(METHODS))
def test_no_secret_in_logs_or_errors(config, fake_master, caplog, method):
    caplog.set_level(logging.DEBUG)  # the root logger: ours, requests', urllib3's
    username, secret, generation = METHODS[method]
    cred = creds.add(config, identifier="m", url=fake_master.url, method=method,
                     username=username, secret=secret, allow_http=True, generation=generation)
    texts = []
    with creds.client_for(fake_master.url, config=config) as client:
        assert client.list_trackers()  # the credential works
        list(client.iter_items(1))
        client.insert_item(1, "o", {"title": "x"})
        texts.append(repr(client) + repr(client.transport.__dict__.get("base_url")))
        calls = (client.list_trackers, lambda: list(client.iter_items(1)),
                 lambda: client.update_item(1, 1, "o", {"a": "b"}))
        for label in failures(fake_master, secret):
            raised = []
            for call in calls:
                try:
                    call()
                except errors.RemoteError as exc:
                    raised.append(exc)
            assert raised, label
            texts += [f"{label}: {exc} {exc!r} {exc.args!r} {exc.url}" for exc in raised]
    texts.append(json.dumps(creds.probe(cred, config=config)))
    texts.append(json.dumps([e.summary for e in AuditEvent.select()]))
    texts.append(json.dumps(creds.public(Credential.get())))
    assert len(caplog.records) > 10
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    assert_clean(caplog.text, "the log")
    assert_clean("\n".join(r.getMessage() for r in caplog.records), "a log record")
    assert_clean("\n".join(texts), "an error message")


def test_no_secret_in_pages(app, client, auth, fake_master, caplog):
    caplog.set_level(logging.DEBUG)
    auth.login("admin")
    create = url(app, "tikisync.credential_create")
    pages = []
    for method, (username, secret, generation) in METHODS.items():
        values = {"identifier": method, "url": f"{fake_master.url}/{method}", "method": method,
                  "username": username, "secret": secret, "generation": generation,
                  "allow_http": "y"}
        pages.append(client.post(create, data={**values, "identifier": "bad name"}))  # 422
        pages.append(client.post(create, data=values))
    for cred in Credential.select():
        pages.append(client.get(url(app, "tikisync.credential_edit", cred_id=cred.id)))
        pages.append(client.post(url(app, "tikisync.credential_edit", cred_id=cred.id),
                                 data={"identifier": cred.identifier, "url": "nope",
                                       "method": cred.method, "secret": PASSWORD}))  # 422
        pages.append(client.get(url(app, "tikisync.credential_delete", cred_id=cred.id)))
        target = f"credential-test-{cred.id}"
        pages.append(client.post(url(app, "tikisync.credential_test", cred_id=cred.id),
                                 headers={"HX-Request": "true", "HX-Target": target}))
        fake_master.settings.answer_status = 403
        fake_master.settings.error_message = f"echo {METHODS[cred.method][1]}"
        client.post(url(app, "tikisync.credential_test", cred_id=cred.id))  # plain: a message
        pages.append(client.get(url(app, "tikisync.credentials")))  # shows that message
        fake_master.settings.answer_status = None
    pages.append(client.get(url(app, "tikisync.credential_edit", cred_id=999)))  # 404 page
    client.send_csrf = False
    pages.append(client.post(create, data={"identifier": "x", "url": fake_master.url,
                                           "method": "basic", "secret": PASSWORD}))  # 400 page
    assert [p.status_code for p in pages].count(422) == 8
    assert {p.status_code for p in pages} == {200, 303, 400, 404, 422}
    for page in pages:
        assert_clean(page.get_data(as_text=True), f"the page {page.request.path}")
    assert_clean(caplog.text, "the log")


def test_no_secret_in_cli_output(runner, fake_master):
    outputs = []

    def cli(*args):
        result = runner.invoke(args=["tikisync", *args])
        outputs.extend([result.stdout, result.stderr])
        return result

    cli("dsn", "add", "a", fake_master.url, "--method", "basic", "--username", USER,
        "--password", PASSWORD, "--allow-http")
    cli("dsn", "add", "b", fake_master.url + "/x", "--method", "header", "--token", HEADER,
        "--allow-http")
    cli("dsn", "add", "c", "http://insecure.example", "--method", "bearer", "--token", TOKEN)
    cli("dsn", "list", "--json")
    cli("dsn", "list")
    cli("dsn", "test", "a", "--json")
    fake_master.settings.answer_status = 401
    cli("dsn", "test", "a", "--json")
    cli("dsn", "test", "b")
    fake_master.settings.answer_status = 403
    fake_master.settings.error_message = f"echo {PASSWORD}"  # what credential a sends
    cli("remote", "trackers", fake_master.url, "--json")
    fake_master.settings.error_message = f"echo {HEADER}"  # what credential b sends
    cli("remote", "trackers", fake_master.url + "/x")
    assert "***" in "".join(outputs)  # the echoed secrets were there, and were scrubbed
    assert_clean("\n".join(outputs), "the command line output")
