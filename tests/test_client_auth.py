"""Credentials go only where the matching rule says: asserted on what the masters received."""
import base64

import pytest

from tests.support.fake_master import PASSWORD, TOKEN, USER
from tikisync_web.remote import errors
from tikisync_web.remote.auth import BasicAuth, BearerAuth, HeaderAuth, SessionAuth
from tikisync_web.remote.client import TikiClient
from tikisync_web.remote.urls import OriginPolicy, UrlError, covers, locate, normalize_base


def basic(url, **kw):
    return BasicAuth(url, USER, PASSWORD, allow_http=True, identifier="prod", **kw)


def authorized(requests):
    return [r for r in requests if r.authorization or r.cookie]


@pytest.mark.parametrize("scope, url, expected", [
    ("https://h.example/tiki", "https://h.example/tiki", True),
    ("https://h.example/tiki", "https://h.example/tiki/tiki-api.php", True),
    ("https://h.example/tiki/", "https://h.example/tiki/x", True),
    ("https://h.example/tiki", "https://h.example/tiki-other/tiki-api.php", False),
    ("https://h.example/tiki", "https://h.example/tikix", False),
    ("https://h.example/tiki", "https://h.example/", False),
    ("https://h.example/tiki", "https://h.example/tiki/../admin/x", False),
    ("https://h.example", "https://h.example/anything/below", True),
    ("https://h.example/tiki", "https://h.example:8443/tiki", False),
    ("https://h.example/tiki", "https://h.example:443/tiki/x", True),
    ("https://H.Example/tiki", "https://h.example/tiki/x", True),
    ("https://h.example/tiki", "http://h.example/tiki/x", False),
    ("https://h.example/tiki", "https://other.example/tiki/x", False),
    ("https://h.example/tiki", "https://h.example.evil.test/tiki/x", False),
    ("https://h.example/Tiki", "https://h.example/tiki/x", False),
])
def test_matching_rule(scope, url, expected):
    assert covers(scope, url) is expected


@pytest.mark.parametrize("url", ["ftp://h/x", "h.example/tiki", "https://user:pw@h/x",
                                 "https:///nohost", "https://h:99999/", "https://a'b/"])
def test_unusable_urls(url):
    with pytest.raises(UrlError):
        locate(url)


def test_base_url_normalisation():
    assert normalize_base("HTTPS://Tiki.Example.org:443/tiki/") == "https://tiki.example.org/tiki"
    assert normalize_base("http://h:8080/t/tiki-api.php") == "http://h:8080/t"
    with pytest.raises(UrlError):
        normalize_base("https://h/tiki?x=1")


def test_credential_reaches_its_own_master(fake_master):
    with TikiClient(fake_master.url, auth=basic(fake_master.url), generation="A") as c:
        c.list_trackers()
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert fake_master.requests[0].authorization == expected


def test_another_port_gets_nothing(make_master):
    home, other = make_master(), make_master()
    with TikiClient(other.url, auth=basic(home.url), generation="A") as c:
        assert c.list_trackers() == []  # anonymous there: no trackers visible
    assert len(other.requests) == 1 and authorized(other.requests) == []


def test_sibling_path_gets_nothing(fake_master):
    auth = basic(fake_master.url)  # .../tiki
    with TikiClient(fake_master.origin + "/tiki-other", auth=auth, generation="A") as c:
        c.list_trackers()
    with TikiClient(fake_master.url + "/sub", auth=auth, generation="A") as c:
        c.list_trackers()
    other, sub = fake_master.requests
    assert other.path == "/tiki-other/tiki-ajax_services.php" and other.authorization is None
    assert sub.path == "/tiki/sub/tiki-ajax_services.php" and sub.authorization


def test_cross_origin_redirect_gets_nothing(make_master):
    target = make_master()
    home = make_master(redirect_to=target.origin)
    policy = OriginPolicy({home.origin, target.origin})
    with TikiClient(home.url, auth=basic(home.url), generation="A", outbound=policy) as c:
        assert c.list_trackers() == []  # answered anonymously by the other origin
    assert home.requests[0].authorization  # the credential went to its own master...
    assert len(target.requests) == 1 and authorized(target.requests) == []  # ...not further


def test_redirect_to_an_origin_not_allowed_is_refused(make_master):
    target = make_master()
    home = make_master(redirect_to=target.origin)
    policy = OriginPolicy({home.origin})
    with TikiClient(home.url, auth=basic(home.url), outbound=policy) as c, \
            pytest.raises(errors.OutboundRefused):
        c.list_trackers()
    assert target.requests == []


def test_plain_http_without_opt_in_sends_nothing(fake_master):
    auth = BasicAuth(fake_master.url, USER, PASSWORD, identifier="prod")  # allow_http off
    with TikiClient(fake_master.url, auth=auth) as c, \
            pytest.raises(errors.InsecureTransport) as caught:
        c.list_trackers()
    assert "not sent over plain http" in str(caught.value)
    assert isinstance(caught.value, errors.OutboundRefused)
    session = SessionAuth(fake_master.url, USER, PASSWORD, identifier="prod")
    with TikiClient(fake_master.url, auth=session) as c, pytest.raises(errors.InsecureTransport):
        c.list_trackers()
    assert fake_master.requests == []


def test_bearer_and_header_values(fake_master):
    with TikiClient(fake_master.url, auth=BearerAuth(fake_master.url, TOKEN, allow_http=True),
                    generation="B") as c:
        c.list_trackers()
    raw = HeaderAuth(fake_master.url, "Bearer " + TOKEN, allow_http=True)
    with TikiClient(fake_master.url, auth=raw, generation="B") as c:
        assert len(c.list_trackers()) == 1
    assert {r.authorization for r in fake_master.requests} == {"Bearer " + TOKEN}


def test_session_login_once_per_client(fake_master):
    auth = SessionAuth(fake_master.url, USER, PASSWORD, allow_http=True, identifier="prod")
    with TikiClient(fake_master.url, auth=auth, generation="A") as c:
        assert len(c.list_trackers()) == 1
        assert len(list(c.iter_items(1))) == 3
        c.export_fields(1)
    form = fake_master.requests_to("tiki-login_scr.php")
    logins = fake_master.requests_to("tiki-login.php")
    assert [r.method for r in form + logins] == ["GET", "POST"]  # as Tiki's own form does
    post = logins[0]
    assert post.form["user"] == [USER] and post.form["pass"] == [PASSWORD]
    assert post.form["ticket"][0]  # the CSRF ticket from the form
    assert post.header("Referer") == fake_master.url + "/tiki-login_scr.php"
    assert post.header("Origin") == fake_master.origin
    api = fake_master.requests_to("tiki-ajax_services.php")
    assert len(api) == 4 and all("PHPSESSID=" in r.cookie for r in api)
    assert all(r.authorization is None for r in api)
    assert len({r.cookie for r in api}) == 1


def test_session_cookie_never_follows_a_redirect_to_another_port(make_master):
    target = make_master()
    home = make_master()
    auth = SessionAuth(home.url, USER, PASSWORD, allow_http=True)
    policy = OriginPolicy({home.origin, target.origin})
    with TikiClient(home.url, auth=auth, generation="A", outbound=policy) as c:
        c.list_trackers()
        home.settings.redirect_to = target.origin  # the cookie's Path=/ covers any port
        assert c.list_trackers() == []
    assert "PHPSESSID" in home.requests[-1].cookie
    assert authorized(target.requests) == []


def test_session_wrong_password(fake_master):
    auth = SessionAuth(fake_master.url, USER, "bad-password", allow_http=True, identifier="prod")
    with TikiClient(fake_master.url, auth=auth) as c, \
            pytest.raises(errors.Unauthorized) as caught:
        c.list_trackers()
    assert "logging in at" in str(caught.value) and "bad-password" not in str(caught.value)
    assert fake_master.requests_to("tiki-ajax_services.php") == []


def test_session_login_page_must_be_inside_the_credential(fake_master):
    with pytest.raises(errors.OutboundRefused):
        SessionAuth(fake_master.url, USER, PASSWORD, login_url="https://elsewhere/login")
