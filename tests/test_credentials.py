"""The credential service: encryption at rest, validation, matching, outbound policy,
client_for and the credential test, against the database and the fake master."""
import pytest

from tests.support.fake_master import PASSWORD, TOKEN, USER
from tikisync_web import credentials as creds
from tikisync_web import crypto
from tikisync_web.models import AuditEvent, Credential
from tikisync_web.remote import errors


@pytest.fixture
def config(app, db):
    return creds.RemoteConfig.from_app(app, timeout=5, backoff=0)


def add(config, **values):
    base = {"identifier": "prod", "url": "https://tiki.example.org/tiki", "method": "basic",
            "username": "sync", "secret": "s3cret-value"}
    return creds.add(config, **{**base, **values})


def connect(config, master, method="bearer", **kw):
    secret = TOKEN if method in ("bearer",) else PASSWORD
    return creds.add(config, identifier=kw.pop("identifier", "fake"), url=master.url,
                     method=method, username=USER, secret=secret, allow_http=True, **kw)


# --- encryption ----------------------------------------------------------------------------

def test_secret_round_trip_and_never_stored_clear():
    token = crypto.encrypt("pa55word", "material")
    assert "pa55word" not in token and token != crypto.encrypt("pa55word", "material")
    assert crypto.decrypt(token, "material") == "pa55word"
    assert crypto.encrypt("", "material") == "" and crypto.decrypt("", "material") == ""
    with pytest.raises(crypto.SecretUnreadable) as caught:
        crypto.decrypt(token, "another key")
    assert "enter the secret again" in str(caught.value) and "pa55word" not in str(caught.value)


def test_key_material_prefers_tikisync_secret_key():
    assert crypto.key_material({"TIKISYNC_SECRET_KEY": "a", "SECRET_KEY": "b"}) == "a"
    assert crypto.key_material({"SECRET_KEY": "b"}) == "b"
    with pytest.raises(RuntimeError):
        crypto.key_material({})


def test_stored_encrypted(config):
    cred = add(config)
    row = Credential.get_by_id(cred.id)
    assert "s3cret-value" not in row.secret
    assert crypto.decrypt(row.secret, config.key) == "s3cret-value"
    assert "s3cret-value" not in repr(creds.public(row))
    assert creds.public(row)["has_secret"] is True
    events = [e.summary for e in AuditEvent.select()]
    assert events == [{"identifier": "prod", "url": "https://tiki.example.org/tiki",
                       "method": "basic"}]


def test_changed_key_makes_the_credential_unusable_not_a_crash(config):
    cred = add(config)
    other = creds.RemoteConfig(key="a different key")
    with pytest.raises(creds.CredentialUnusable) as caught:
        creds.client_for(cred.url, config=other)
    assert isinstance(caught.value, errors.RemoteError)
    assert "enter the secret again" in str(caught.value)


# --- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("values, field", [
    ({"identifier": ""}, "identifier"),
    ({"identifier": "has space"}, "identifier"),
    ({"url": "tiki.example.org"}, "url"),
    ({"url": "https://tiki.example.org/tiki?x=1"}, "url"),
    ({"url": "https://user:pw@tiki.example.org/"}, "url"),
    ({"url": "http://tiki.example.org/tiki"}, "url"),  # plain http without the opt-in
    ({"method": "kerberos"}, "method"),
    ({"username": ""}, "username"),
    ({"secret": ""}, "secret"),
    ({"method": "bearer", "secret": ""}, "secret"),
    ({"method": "header", "secret": "Bearer a\r\nX-Evil: 1"}, "secret"),
    ({"generation": "B"}, "generation"),  # tiki-api.php ignores HTTP Basic
    ({"method": "session", "login_url": "https://elsewhere.example/login"}, "login_url"),
])
def test_invalid_input_saves_nothing(config, values, field):
    with pytest.raises(creds.CredentialInvalid) as caught:
        add(config, **values)
    assert field in caught.value.errors
    assert Credential.select().count() == 0


def test_duplicates(config):
    add(config)
    with pytest.raises(creds.CredentialInvalid) as caught:
        add(config, url="https://tiki.example.org/other")
    assert "already exists" in caught.value.errors["identifier"]
    with pytest.raises(creds.CredentialInvalid) as caught:
        add(config, identifier="second", url="https://TIKI.example.org:443/tiki/")
    assert "already covers exactly this URL" in caught.value.errors["url"]


def test_url_is_stored_normalised(config):
    cred = add(config, url="HTTPS://Tiki.Example.org:443/tiki/tiki-index.php")
    assert cred.url == "https://tiki.example.org/tiki"
    assert add(config, identifier="lan", url="http://10.0.0.5:8080/",
               allow_http=True).url == "http://10.0.0.5:8080"


def test_update_keeps_the_secret_when_left_empty(config):
    cred = add(config)
    before = Credential.get_by_id(cred.id).secret
    values = creds.public(cred)
    values.update(secret="", username="other")
    updated = creds.update(cred, config, **{k: values[k] for k in (
        "identifier", "url", "method", "username", "secret", "login_url", "allow_http",
        "generation")})
    assert updated.secret == before and updated.username == "other"
    updated = creds.update(updated, config, identifier="renamed", url=cred.url, method="bearer",
                           secret="new-token-value")
    assert crypto.decrypt(updated.secret, config.key) == "new-token-value"
    assert updated.identifier == "renamed"


def test_update_of_a_bearer_credential_to_basic_needs_a_user_and_password(config):
    cred = add(config, method="bearer", username="")
    with pytest.raises(creds.CredentialInvalid) as caught:
        creds.update(cred, config, identifier="prod", url=cred.url, method="basic")
    assert caught.value.errors == {"username": "this method needs a user name",
                                   "secret": "enter the password (the method changed)"}
    basic = creds.update(cred, config, identifier="prod", url=cred.url, method="basic",
                         username="u", secret="pw-for-basic")
    session = creds.update(basic, config, identifier="prod", url=cred.url, method="session",
                           username="u")  # a password stays a password
    assert session.secret == basic.secret


def test_a_kept_secret_never_follows_the_credential_to_another_site(config):
    cred = add(config)
    values = {"identifier": "prod", "method": "basic", "username": "sync"}
    with pytest.raises(creds.CredentialInvalid) as caught:
        creds.update(cred, config, url="https://attacker.example/tiki", **values)
    assert "enter the secret again" in caught.value.errors["secret"]
    moved = creds.update(cred, config, url="https://tiki.example.org/other", **values)
    assert moved.secret == cred.secret  # same site, another path: kept
    moved = creds.update(moved, config, url="https://new.example/tiki", secret="typed-again",
                         **values)
    assert crypto.decrypt(moved.secret, config.key) == "typed-again"


def test_delete(config):
    cred = add(config)
    creds.delete(cred, actor="admin")
    assert creds.get("prod") is None


# --- matching and outbound policy ----------------------------------------------------------

def test_longest_prefix_on_segment_boundaries_wins(config):
    add(config, identifier="root", url="https://h.example")
    add(config, identifier="tiki", url="https://h.example/tiki")
    add(config, identifier="deep", url="https://h.example/tiki/sub")
    add(config, identifier="port", url="https://h.example:8443/tiki")
    name = lambda url: (creds.match(url) or Credential(identifier=None)).identifier  # noqa: E731
    assert name("https://h.example/tiki/sub/x") == "deep"
    assert name("https://h.example/tiki/subway") == "tiki"
    assert name("https://h.example/tiki") == "tiki"
    assert name("https://h.example/tiki-other") == "root"
    assert name("https://h.example:8443/tiki/x") == "port"
    assert name("https://h.example:9443/tiki/x") is None
    assert name("http://h.example/tiki") is None
    assert name("not a url") is None


def test_outbound_policy(config):
    add(config)
    creds.check_outbound("https://tiki.example.org/anything")  # a credential's origin
    with pytest.raises(errors.OutboundRefused) as caught:
        creds.check_outbound("https://intranet.example:8080/tiki")
    assert "tikisync origin add https://intranet.example:8080" in str(caught.value)
    assert creds.add_origin("https://Intranet.example:8080/some/path") == \
        "https://intranet.example:8080"
    creds.check_outbound("https://intranet.example:8080/tiki")
    with pytest.raises(creds.CredentialInvalid):
        creds.add_origin("https://intranet.example:8080")
    with pytest.raises(creds.CredentialInvalid):
        creds.add_origin("ftp://x")
    assert creds.remove_origin("https://intranet.example:8080") is True
    assert creds.remove_origin("https://intranet.example:8080") is False
    with pytest.raises(errors.OutboundRefused):
        creds.check_outbound("https://intranet.example:8080/tiki")


# --- client_for ----------------------------------------------------------------------------

def test_client_for_refuses_an_unlisted_master_before_any_request(config, fake_master):
    with pytest.raises(errors.OutboundRefused):
        creds.client_for(fake_master.url, config=config)
    with pytest.raises(errors.OutboundRefused):
        creds.client_for("file:///etc/passwd", config=config)
    assert fake_master.requests == []


def test_client_for_applies_the_matching_credential(config, fake_master):
    connect(config, fake_master, method="basic", generation="A")
    with creds.client_for(fake_master.url + "/", config=config) as client:
        assert client.generation == "A"
        assert client.list_trackers()[0]["name"] == "SyncDemo"
    assert fake_master.requests[0].authorization.startswith("Basic ")


def test_client_for_an_allowed_origin_without_credential(config, fake_master):
    creds.add_origin(fake_master.origin)
    with creds.client_for(fake_master.url, config=config) as client:
        assert client.auth is None and client.list_trackers() == []
    assert fake_master.requests[0].authorization is None


def test_client_for_takes_timeout_tls_and_retries_from_config(app, db):
    creds.add_origin("https://tiki.example.org")
    config = creds.RemoteConfig.from_app(app, timeout=7, ca_bundle="/etc/ca.pem", retries=1)
    client = creds.client_for("https://tiki.example.org/tiki", config=config)
    transport = client.transport
    assert (transport.timeout, transport.verify, transport.retries) == (7, "/etc/ca.pem", 1)
    app.config.update(TIKISYNC_HTTP_TIMEOUT=12, TIKISYNC_CA_BUNDLE=None)
    with app.app_context():
        client = creds.client_for("https://tiki.example.org/tiki")
    assert (client.transport.timeout, client.transport.verify) == (12, True)


def test_client_for_credential_generation_and_override(config, fake_master):
    connect(config, fake_master, method="bearer", generation="B")
    with creds.client_for(fake_master.url, config=config) as client:
        assert client.generation == "B"
    with creds.client_for(fake_master.url, config=config, generation="A") as client:
        assert client.generation == "A"
    assert fake_master.requests == []  # a fixed generation needs no probe


# --- the credential test ---------------------------------------------------------------------

def test_probe_bearer_on_tiki_24(config, fake_master):
    result = creds.probe(connect(config, fake_master), config=config)
    assert result["ok"] and result["answered"]
    assert (result["generation"], result["version"]) == ("B", "24.1")
    assert (result["list_trackers"], result["trackers"], result["list_items"]) == (True, 1, True)
    assert result["tracker_checked"] == 1 and isinstance(result["clock_skew"], int)
    assert "may read items" in result["message"]
    items_request = fake_master.requests[-1]
    assert items_request.query["maxRecords"] == ["1"]  # one small page, not the whole tracker


def test_probe_basic_on_gen_a(config, fake_master):
    result = creds.probe(connect(config, fake_master, method="basic"), config=config)
    assert result["ok"] and result["generation"] == "A" and result["version"] is None


def test_probe_account_without_tracker_admin_rights(config, fake_master):
    fake_master.settings.limited_users = {USER}
    result = creds.probe(connect(config, fake_master, method="basic"), config=config)
    assert not result["ok"] and result["answered"]
    assert (result["list_trackers"], result["list_items"]) == (True, False)
    assert "tracker-admin" in result["error"] and "may not read items" in result["message"]


def test_probe_wrong_password(config, fake_master):
    cred = connect(config, fake_master, method="basic")
    creds.update(cred, config, identifier="fake", url=cred.url, method="basic", username=USER,
                 secret="wrong-password-123", allow_http=True)
    result = creds.probe(creds.get("fake"), config=config)
    assert result["answered"] and not result["list_trackers"] and not result["ok"]
    assert "401" in result["error"] and "wrong-password-123" not in repr(result)


def test_probe_unreachable(config, fake_master):
    cred = connect(config, fake_master)
    fake_master.stop()
    result = creds.probe(cred, config=config)
    assert not result["answered"] and not result["ok"] and result["generation"] is None
    assert result["message"].startswith("Not reached:")
