"""Browser: the clone wizard says "This is not a Tiki site" for a URL where no Tiki answers, and
names login_http_basic for a Tiki that ignored HTTP Basic (issue 13), at 1280 and 360 px
without sideways scrolling (screenshots kept when TIKISYNC_SCREENSHOTS names a folder)."""
import os

from playwright.sync_api import expect

from tests.support import fake_master as fm
from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tests.support.not_tiki import NotTiki
from tests.support.sync import config
from tikisync_web import credentials as creds
from tikisync_web.db import database

WIDTHS = (1280, 360)


def look_at(page, name):
    folder = os.environ.get("TIKISYNC_SCREENSHOTS")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
            f"{name} scrolls sideways at {width} px"
        if folder:
            page.screenshot(path=os.path.join(folder, f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def search(page, live_server, address):
    page.goto(live_server.link("tikisync.clone"))
    page.get_by_label("Master URL").fill(address)
    page.get_by_role("button", name="Search for trackers to clone").click()
    return page.locator("#clone-problem")


def test_the_wizard_says_what_is_wrong(page, live_server, live_app, users, make_master):
    basic_off = make_master(basic_off=True)
    with NotTiki("plain") as site:
        with live_app.app_context(), database.connection_context():
            creds.add(config(live_app), identifier="web", url=site.url, method="bearer",
                      username="", secret="some-token-0123456789", allow_http=True)
            creds.add(config(live_app), identifier="tiki", url=basic_off.url, method="basic",
                      username=fm.USER, secret=fm.PASSWORD, allow_http=True)
        sign_in(page, live_server, "admin", PASSWORD)
        problem = search(page, live_server, site.url)
        expect(problem).to_contain_text("This is not a Tiki site")
        expect(problem).to_contain_text("no Tiki web service answered at " + site.url)
        look_at(page, "clone-not-a-tiki")
    problem = search(page, live_server, basic_off.url)
    expect(problem).to_contain_text("ignored the user name and password")
    expect(problem).to_contain_text("login_http_basic")
    look_at(page, "clone-basic-ignored")


def test_the_credential_form_says_when_to_use_the_session_method(page, live_server, users):
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(live_server.link("tikisync.credentials"))
    method = page.get_by_label("Method")
    method.select_option("session")
    expect(method.locator("option:checked")).to_have_text(
        "Session login (Tiki 19-23 writes)")
    look_at(page, "credentials-session-method")
