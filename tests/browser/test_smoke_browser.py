from tests.support.apps import PASSWORD
from tests.support.browser import sign_in


def test_sign_in_shows_trackers(page, live_server, users):
    sign_in(page, live_server, "admin", PASSWORD)
    assert page.get_by_role("heading", name="Trackers").is_visible()
    # htmx is loaded from our own static folder, never from a CDN.
    assert page.evaluate("typeof htmx !== 'undefined' && htmx.version") == "2.0.11"
