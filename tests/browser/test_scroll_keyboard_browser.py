"""In Chromium: a keyboard user reaches a wide table's scroll box with Tab (it is a region named
after what scrolls, with a visible focus ring) and scrolls it sideways with the arrow keys.
Screenshots of the focused box at 1,280 and 360 px are kept under test-results/keyboard/.

Chromium (since 130) lets Tab reach any box that scrolls; other browsers only a box that says
so (tabindex="0"). This test's Chromium runs without that feature, as those browsers do, so a
box without tabindex fails it."""
import pathlib

import pytest
from playwright.sync_api import expect

from tests.support import seed
from tests.support.apps import PASSWORD
from tests.support.browser import sign_in

SHOTS = pathlib.Path("test-results/keyboard")
# Twelve long columns: wider than a 1,280 px window.
FIELDS = [(f"field{n:02d}", f"A rather long column heading {n}", "t", {}, n == 1)
          for n in range(1, 13)]


@pytest.fixture
def page(browser_type, browser_type_launch_args):
    args = [*browser_type_launch_args.get("args", []),
            "--disable-features=KeyboardFocusableScrollers"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    page = browser.new_page()
    page.set_default_timeout(10_000)
    yield page
    browser.close()


def test_tab_reaches_the_item_lists_scroll_box_and_arrows_scroll_it(page, live_server, users):
    tracker = seed.make_tracker("Wide", FIELDS)
    for n in range(3):
        seed.add_item(tracker, **{perm: f"value {n} of {perm}" for perm, *_ in FIELDS})
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "viewer", PASSWORD)
    page.goto(live_server.link("tikisync.items", tracker_id=tracker.id))
    box = page.get_by_role("region", name="Items")
    expect(box).to_have_count(1)
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # there is something to scroll

    page.locator("body").focus()
    for _press in range(40):  # the search form and the links before the table, then the box
        page.keyboard.press("Tab")
        if box.evaluate("e => e === document.activeElement"):
            break
    expect(box).to_be_focused()
    ring = box.evaluate("e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]")
    assert ring == ["solid", "2px"], ring

    assert box.evaluate("e => e.scrollLeft") == 0
    for _press in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("e => e.scrollLeft > 0", arg=box.element_handle())
    # The same position twice 100 ms apart: a smooth scroll has come to rest.
    page.wait_for_function("e => { const rest = e.scrollLeft === e.tsLast; "
                           "e.tsLast = e.scrollLeft; return rest; }",
                           arg=box.element_handle(), polling=100)
    moved = box.evaluate("e => e.scrollLeft")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"e => e.scrollLeft < {moved}", arg=box.element_handle())
    expect(box).to_be_focused()  # the keys scrolled the box; focus stayed on it
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 360):  # for a reviewer: the focus ring around the box
        page.set_viewport_size({"width": width, "height": 900})
        expect(box).to_be_focused()
        page.screenshot(path=str(SHOTS / f"items-scroll-focused-{width}.png"))
        scroll, window = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= window  # the box scrolls, not the page
