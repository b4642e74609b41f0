"""Say what is wrong, exactly (issue 13): a URL that is no Tiki, a refused token, a user without
admin_trackers and a Tiki that ignored HTTP Basic, each in the client's error, in the CLI (one
line, exit 1), on the credential Test button and in the clone wizard."""
import pytest

from tests.support import fake_master as fm
from tests.support.not_tiki import NotTiki
from tests.support.pages import soup, url
from tests.support.remote_client import make_client
from tests.support.sync import config
from tikisync_web import credentials as creds
from tikisync_web.remote import errors
from tikisync_web.remote.auth import BasicAuth, BearerAuth
from tikisync_web.remote.client import TikiClient

NOT_TIKI = "this is not a Tiki site: no Tiki web service answered at "
TOKEN_REFUSED = "the master did not accept this token"
NO_RIGHTS = "this user lacks admin_trackers"


@pytest.fixture(params=["plain", "page", "missing"])
def not_tiki(request):
    with NotTiki(request.param) as server:
        yield server


def basic_off_master(make_master):
    """A Tiki at its default login_http_basic=n: Basic is ignored, the request anonymous."""
    return make_master(basic_off=True)


def test_a_site_that_is_no_tiki_says_so_over_either_generation(not_tiki):
    for generation in ("A", "B"):
        hits = not_tiki.hits
        with TikiClient(not_tiki.url, generation=generation, backoff=0) as client, \
                pytest.raises(errors.NotATiki) as caught:
            client.list_trackers()
        message = str(caught.value)
        assert message.startswith(NOT_TIKI + not_tiki.url + "/tiki-"), message
        # Code that handles "not found" or "not JSON" still handles it.
        assert isinstance(caught.value, errors.NotFound)
        assert isinstance(caught.value, errors.NotJson)
        assert not_tiki.hits == hits + 1  # asked once: a 501 or a 404 is not retried


def test_a_write_to_a_site_that_is_no_tiki_was_not_written(not_tiki):
    with TikiClient(not_tiki.url, generation="A", backoff=0) as client, \
            pytest.raises(errors.NotATiki) as caught:
        client.insert_item(1, "o", {"title": "x"})
    assert not caught.value.maybe_written


def test_a_tiki_login_page_is_still_a_login_page(fake_master):
    fake_master.settings.html_login = True
    with make_client(fake_master, "A") as client, pytest.raises(errors.NotJson) as caught:
        client.list_trackers()
    assert not isinstance(caught.value, errors.NotATiki)
    assert "login page" in str(caught.value)


def test_a_refused_token_is_told_apart_from_missing_rights(fake_master):
    auth = BearerAuth(fake_master.url, "not-the-token-0123456789", allow_http=True,
                      identifier="prod")
    with TikiClient(fake_master.url, generation="B", auth=auth) as client, \
            pytest.raises(errors.Unauthorized) as caught:
        client.list_trackers()
    assert TOKEN_REFUSED in str(caught.value) and "'prod'" in str(caught.value)
    fake_master.settings.limited_users = {fm.USER}
    with make_client(fake_master, "B") as client, pytest.raises(errors.Forbidden) as caught:
        client.export_fields(1)
    assert NO_RIGHTS in str(caught.value) and TOKEN_REFUSED not in str(caught.value)


def test_a_wrong_basic_password_is_no_token(fake_master):
    auth = BasicAuth(fake_master.url, fm.USER, "wrong", allow_http=True, identifier="prod")
    with TikiClient(fake_master.url, generation="A", auth=auth) as client, \
            pytest.raises(errors.Unauthorized) as caught:
        client.list_trackers()
    assert TOKEN_REFUSED not in str(caught.value)


def test_basic_ignored_names_the_preference_and_the_session_method(make_master):
    master = basic_off_master(make_master)
    with make_client(master, "A") as client, pytest.raises(errors.BasicIgnored) as caught:
        client.list_trackers()
    message = str(caught.value)
    assert "ignored HTTP Basic" in message and "login_http_basic to always" in message
    assert "the method session" in message
    assert isinstance(caught.value, errors.Forbidden)


# --- the command line --------------------------------------------------------------------------

@pytest.fixture
def cli(runner):
    def run(*args):
        return runner.invoke(args=["tikisync", *args])
    return run


def one_line_failure(result):
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    return lines[0]


def test_cli_says_a_site_is_no_tiki(cli, not_tiki):
    assert cli("origin", "add", not_tiki.url).exit_code == 0
    line = one_line_failure(cli("remote", "trackers", not_tiki.url))
    assert line.startswith("Error: " + NOT_TIKI + not_tiki.url)


@pytest.mark.parametrize("case", ["token", "basic off", "rights"])
def test_cli_dsn_test_words(cli, make_master, case):
    master = basic_off_master(make_master) if case == "basic off" else make_master()
    if case == "rights":
        master.settings.limited_users = {fm.USER}
    if case == "token":
        added = cli("dsn", "add", "prod", master.url, "--method", "bearer", "--token",
                    "not-the-token-0123456789", "--allow-http")
    else:
        added = cli("dsn", "add", "prod", master.url, "--method", "basic", "--username", fm.USER,
                    "--password", fm.PASSWORD, "--allow-http")
    assert added.exit_code == 0, added.stderr
    line = one_line_failure(cli("dsn", "test", "prod"))
    expected = {"token": TOKEN_REFUSED, "basic off": "login_http_basic",
                "rights": NO_RIGHTS}[case]
    assert expected in line
    assert fm.PASSWORD not in line


# --- the credential Test button and the clone wizard -------------------------------------------

@pytest.fixture
def admin(app, auth):
    auth.become("admin")
    return auth.client


def add_credential(app, target_url, method, secret, username=fm.USER):
    with app.app_context():
        return creds.add(config(app), identifier="prod", url=target_url, method=method,
                         username=username, secret=secret, allow_http=True)


def shown_by_test_button(admin, app, cred):
    target = f"credential-test-{cred.id}"
    response = admin.post(url(app, "tikisync.credential_test", cred_id=cred.id),
                          headers={"HX-Request": "true", "HX-Target": target})
    assert response.status_code == 200
    return soup(response).find(id=target).find(class_="ts-msg").text


def wizard_problem(admin, app, target_url):
    response = admin.get(url(app, "tikisync.clone_trackers", url=target_url))
    assert response.status_code == 200
    problem = soup(response).find(id="clone-wizard").find(id="clone-problem")
    return problem.find("strong").text, " ".join(problem.text.split())


def test_button_and_wizard_say_a_site_is_no_tiki(admin, app, not_tiki):
    cred = add_credential(app, not_tiki.url, "bearer", "some-token-0123456789")
    assert NOT_TIKI[1:] + not_tiki.url in shown_by_test_button(admin, app, cred)
    title, text = wizard_problem(admin, app, not_tiki.url)
    assert title == "This is not a Tiki site"
    assert NOT_TIKI + not_tiki.url in text


def test_button_and_wizard_say_the_token_was_refused(admin, app, fake_master):
    cred = add_credential(app, fake_master.url, "bearer", "not-the-token-0123456789")
    assert TOKEN_REFUSED in shown_by_test_button(admin, app, cred)
    title, text = wizard_problem(admin, app, fake_master.url)
    assert title.startswith("The master did not accept this token")
    assert TOKEN_REFUSED in text


def test_button_and_wizard_say_basic_was_ignored(admin, app, make_master):
    master = basic_off_master(make_master)
    cred = add_credential(app, master.url, "basic", fm.PASSWORD)
    assert "login_http_basic" in shown_by_test_button(admin, app, cred)
    title, text = wizard_problem(admin, app, master.url)
    assert title == "The master ignored the user name and password (HTTP Basic)"
    assert "login_http_basic" in text and "“session”" in text


def test_button_and_wizard_say_the_user_lacks_admin_trackers(admin, app, make_master):
    master = make_master(accounts={fm.USER: fm.PASSWORD, "bob": "bob-pass"},
                         limited_users={"bob"})
    cred = add_credential(app, master.url, "basic", "bob-pass", username="bob")
    assert NO_RIGHTS in shown_by_test_button(admin, app, cred)
    response = admin.get(url(app, "tikisync.clone_preview", url=master.url, tracker=1))
    problem = soup(response).find(id="clone-problem")
    assert problem.find("strong").text.startswith("This user lacks admin_trackers")
    assert NO_RIGHTS in problem.text


def test_a_tiki_without_tiki_api_php_hints_at_the_protocol(make_master):
    master = make_master(generations="A")  # a Tiki 8-23: tiki-api.php is a web server's 404
    with make_client(master, "B") as client, pytest.raises(errors.NotATiki) as caught:
        client.list_trackers()
    assert "a Tiki before 24 has no tiki-api.php" in str(caught.value)
