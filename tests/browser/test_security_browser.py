"""Issue 12's guards in a real browser: htmx works under the strict script policy (no CSP
violation anywhere along the way), the sign-in throttle's message reads well at 1,280 and 360
pixels, and signing out in one browser ends a copied cookie in another."""
import os

import pytest
from playwright.sync_api import expect

from tests.support import seed
from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tikisync_web import throttle
from tikisync_web.db import database

SHOTS = os.environ.get("TIKISYNC_SCREENSHOTS")  # a folder: keep screenshots to look at

# Every violation the page reports, whatever triggers it (scripts, eval, styles htmx injects).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def violations(page):
    return page.evaluate("window.__violations")


def no_sideways_scroll(page):
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


@pytest.fixture
def watched(page):
    page.add_init_script(WATCH)
    console = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.console_errors = console
    return page


def test_htmx_works_under_the_script_policy(watched, live_server, users):
    page = watched
    with database.connection_context():
        tracker = seed.make_tracker("Office")
        for n in range(30):
            seed.add_item(tracker, title=f"chair {n:02d}" if n % 2 else f"desk {n:02d}")
    response = page.goto(live_server.link("tikisync.login"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(live_server.link("tikisync.items", tracker_id=tracker.id))
    rows = page.locator("#item-table tbody tr")
    expect(rows).to_have_count(20)
    # The search box is htmx (hx-get on input): the table is swapped in place.
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.get_by_role("searchbox").fill("desk")
    expect(rows).to_have_count(15)
    assert all("desk" in text for text in rows.all_inner_texts())
    assert violations(page) == []
    assert not [t for t in page.console_errors if "Content Security Policy" in t]


def test_the_throttle_message_reads_well_wide_and_narrow(watched, live_server, users):
    page = watched
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(live_server.link("tikisync.login"))
        for _ in range(throttle.ACCOUNT.limit):
            page.get_by_label("Username").fill(f"editor{width}")
            page.get_by_label("Password").fill("wrong password")
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator(".ts-error").first).to_contain_text("Wrong username or password")
        expect(page.locator("form")).to_contain_text(
            f"wait {throttle.ACCOUNT.first_delay} seconds")
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        error = page.locator("#password-error")
        expect(error).to_contain_text("Too many failed sign-ins")
        expect(error).to_be_visible()
        assert no_sideways_scroll(page), width
        shot(page, f"login-throttled-{width}.png")
    assert violations(page) == []


def test_a_copied_cookie_dies_when_its_owner_signs_out(browser, live_server, users):
    owner = browser.new_context()
    page = owner.new_page()
    sign_in(page, live_server, "editor", PASSWORD)
    session = [c for c in owner.cookies() if c["name"] == "session"]
    assert session and session[0]["sameSite"] == "Lax" and session[0]["httpOnly"]
    thief = browser.new_context()
    thief.add_cookies(session)
    other = thief.new_page()
    other.goto(live_server.link("tikisync.dashboard"))
    expect(other).to_have_url(live_server.link("tikisync.dashboard"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#tikisync-messages")).to_contain_text("You are signed out.")
    other.goto(live_server.link("tikisync.dashboard"))
    assert other.url.startswith(live_server.link("tikisync.login"))
    owner.close()
    thief.close()


def test_a_refused_permname_reads_well_in_the_clone_preview_and_result(
        page, live_server, live_app, users, make_master):
    from tests.support import fake_master as fm
    from tests.support.sync import config
    from tikisync_web import credentials as creds

    odd = "a-field-name-from-an-old-tiki-with-dashes-and-far-too-long-to-fit-a-narrow-screen"
    master = make_master(fields=[
        {"fieldId": 1, "name": "Title", "permName": "title", "type": "t", "isMain": "y"},
        {"fieldId": 2, "name": "Odd one", "permName": odd, "type": "t"}], items=[])
    with live_app.app_context(), database.connection_context():
        creds.add(config(live_app), identifier="tiki", url=master.url, method="bearer",
                  secret=fm.TOKEN, allow_http=True)
    sign_in(page, live_server, "admin", PASSWORD)
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.link("tikisync.clone_preview", url=master.url, tracker=1))
        row = page.locator("#clone-plan tr[data-action=skipped]")
        expect(row).to_contain_text("permanent name cannot be used here")
        assert no_sideways_scroll(page), width
        shot(page, f"clone-preview-refused-{width}.png")
    page.get_by_role("button", name="Create the local tracker").click()
    skipped = page.locator("#clone-skipped")
    expect(skipped).to_contain_text(odd)
    expect(skipped).to_contain_text("rename it on the master")
    assert no_sideways_scroll(page)
    shot(page, "clone-done-refused-360.png")
