"""The credentials page in Chromium: add, test (the result shows in the page), edit without
retyping the secret, delete with confirmation - against a fake master on loopback."""
import re

from playwright.sync_api import expect

from tests.support.apps import PASSWORD as LOGIN_PASSWORD
from tests.support.browser import sign_in
from tests.support.fake_master import PASSWORD, USER


def test_add_test_edit_delete(page, live_server, users, fake_master):
    sign_in(page, live_server, "admin", LOGIN_PASSWORD)
    page.get_by_role("link", name="Credentials").click()
    expect(page.get_by_role("heading", name="Credentials", exact=True)).to_be_visible()

    # Add: a mistake first (plain http without the opt-in), then the right form.
    page.get_by_label("Name", exact=True).fill("master")
    page.get_by_label("Master URL").fill(fake_master.url)
    page.get_by_label("Method").select_option("basic")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password or token").fill(PASSWORD)
    page.get_by_role("button", name="Add credential").click()
    expect(page.locator("#url-error")).to_contain_text("plain http")
    expect(page.get_by_label("Password or token")).to_have_value("")  # never sent back
    page.get_by_label("Password or token").fill(PASSWORD)
    page.get_by_label("Allow plain http").check()
    page.get_by_role("button", name="Add credential").click()
    expect(page.locator("#tikisync-messages")).to_contain_text("Credential master saved")
    row = page.locator("#credentials tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(fake_master.url)
    assert PASSWORD not in page.content()

    # Test: htmx swaps the result into the row; the page does not reload.
    page.evaluate("window.notReloaded = true")
    row.get_by_role("button", name="Test").click()
    result = row.locator(".ts-test-result")
    expect(result).to_contain_text("may read items", timeout=15_000)
    expect(result).to_contain_text("tiki-ajax_services.php")
    assert page.evaluate("window.notReloaded") is True

    # Edit without retyping the secret: the stored one is kept, and the test still passes.
    row.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Password or token")).to_have_value("")
    page.get_by_label("Name", exact=True).fill("tiki24")
    page.get_by_label("Protocol").select_option("A")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#tikisync-messages")).to_contain_text("Credential tiki24 saved")
    row = page.locator("#credentials tbody tr")
    expect(row.locator("td").first).to_have_text("tiki24")
    row.get_by_role("button", name="Test").click()
    expect(row.locator(".ts-test-result")).to_contain_text("may read items", timeout=15_000)
    logins = [r for r in fake_master.requests if r.authorization]
    assert logins and all(r.authorization == logins[0].authorization for r in logins)

    # Delete, with a confirmation step; cancelling keeps it.
    row.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete credential tiki24?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#credentials tbody tr")).to_have_count(1)
    page.locator("#credentials tbody tr").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete credential").click()
    expect(page.locator("#tikisync-messages")).to_contain_text("Credential tiki24 deleted")
    expect(page.get_by_text(re.compile("No credentials yet"))).to_be_visible()
