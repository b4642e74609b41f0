"""No page scrolls sideways: at 1,280 px and at 360 px wide, every page reachable from the
navigation, a clone's sync tab, the item list and an item of a 17-field tracker with long
values, a credential's Test result and the clone wizard's steps are no wider than the window.
Wide tables scroll inside their own box instead. Screenshots land in test-results/layout/ for a
reviewer to look at (not committed)."""
import pathlib
import time

import pytest
from playwright.sync_api import expect

from tests.support import seed
from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tests.support.sync import reloaded_clone
from tikisync_web import items as item_svc
from tikisync_web.db import database
from tikisync_web.models import Item, Job

SHOTS = pathlib.Path("test-results/layout")
WIDTHS = (1280, 360)
LONG_WORD = "Supercalifragilisticexpialidocious" * 4
LONG_URL = "https://intranet.example.org/" + "very-long-path-segment/" * 8 + "end"
# 17 fields: the item list of such a tracker was 1,667 px wide at 1,280 px.
WIDE_FIELDS = [(f"field{n:02d}", f"Field number {n}", "t", {}, n == 1) for n in range(1, 15)] + [
    ("homepage", "Homepage", "L", {}, False),
    ("notes", "Notes", "a", {}, False),
    ("priority", "Priority", "d", {"options": ["1=Low", "2=Medium", "3=High"]}, False),
]


def page_width(page):
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def assert_fits(page, name, width):
    """The page is no wider than the window; a screenshot is kept either way."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    scroll, window = page_width(page)
    assert scroll <= window, f"{name} at {width} px is {scroll} px wide"


@pytest.fixture
def wide_site(live_server, users, fake_master):
    """A clone of the fake master (reloaded, one item edited here) and a local tracker of 17
    fields whose values are long words and URLs."""
    app = live_server.app
    with database.connection_context():
        clone = reloaded_clone(app, fake_master)
        wide = seed.make_tracker("A tracker of seventeen fields " + LONG_WORD, WIDE_FIELDS,
                                 description=LONG_URL)
        values = {perm: f"{LONG_WORD} {n}" for n, (perm, *_rest) in enumerate(WIDE_FIELDS[:14])}
        first = None
        clone_items = [i.id for i in Item.select().where(Item.tracker == clone).order_by(Item.id)]
        item_svc.update_item(Item.get_by_id(clone_items[1]), {"title": LONG_WORD}, username="t")
        job = Job.create(kind="push", tracker=clone, state="done", username="admin",
                         message="1 pushed, 1 failed, 1 skipped", started=time.time() - 75,
                         finished=time.time(), result={
                             "pushed": [{"id": clone_items[0], "remote_id": 1, "kind": "edit",
                                         "fields": ["title"]}],
                             "failed": [{"id": clone_items[1], "error": LONG_URL}],
                             "skipped": [{"id": clone_items[2], "reason": "conflict"}]})
        for n in range(30):
            item = seed.add_item(wide, **values, homepage=LONG_URL, priority="2",
                                 notes=f"line one {n}\n{LONG_WORD}\nline three")
            first = first or item
    return {"clone": clone, "wide": wide, "item": first, "master_url": fake_master.url,
            "job": job}


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_window(page, live_server, wide_site, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server, "admin", PASSWORD)
    # Every page the navigation links to, found by following the links as a person would.
    links = page.locator("header.ts-nav a")
    targets = [(links.nth(n).inner_text().strip(), links.nth(n).get_attribute("href"))
               for n in range(links.count())]
    assert len(targets) >= 6, targets  # brand, trackers, users, tokens, credentials, settings
    for name, href in targets:
        page.goto(live_server.url + href)
        assert_fits(page, "nav-" + name.lower().replace(" ", "-"), width)

    clone, wide, item = wide_site["clone"], wide_site["wide"], wide_site["item"]
    pages = {
        "items-17-fields": ("tikisync.items", {"tracker_id": wide.id}),
        "item-17-fields": ("tikisync.item", {"item_id": item.id}),
        "item-edit-17-fields": ("tikisync.item_edit", {"item_id": item.id}),
        "fields-17": ("tikisync.fields", {"tracker_id": wide.id}),
        "clone-items": ("tikisync.items", {"tracker_id": clone.id}),
        "clone-item-modified": ("tikisync.item", {"item_id": wide_site["job"].result[
            "failed"][0]["id"]}),
        "sync-tab": ("tikisync.sync", {"tracker_id": clone.id}),
        "push-job": ("tikisync.job", {"job_id": wide_site["job"].id}),
        "clone-wizard": ("tikisync.clone", {}),
        "clone-wizard-trackers": ("tikisync.clone_trackers", {"url": wide_site["master_url"]}),
        "clone-wizard-preview": ("tikisync.clone_preview", {"url": wide_site["master_url"],
                                                            "tracker": 1}),
    }
    for name, (endpoint, values) in pages.items():
        page.goto(live_server.link(endpoint, **values))
        expect(page.locator("main h1, main h2").first).to_be_visible()
        assert_fits(page, name, width)

    # The item list's wide table scrolls in its own box, with every column still there.
    page.goto(live_server.link("tikisync.items", tracker_id=wide.id))
    box = page.locator("#item-table .ts-scroll")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")
    expect(page.locator("#item-table th").filter(has_text="Modified")).to_have_count(1)

    # A credential's Test result stays inside the window too.
    page.goto(live_server.link("tikisync.credentials"))
    page.locator("#credentials").get_by_role("button", name="Test").first.click()
    expect(page.locator("#credentials .ts-test-result p").first).to_be_visible()
    assert_fits(page, "credential-test", width)

