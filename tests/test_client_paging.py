"""Paging through list_items on masters that cap, ignore offset, shuffle or fail mid-way."""
import threading

import pytest
import requests

from tests.support.remote_client import api_requests, make_client
from tikisync_web.remote import errors


@pytest.fixture(params=["A", "B"])
def gen(request):
    return request.param


@pytest.fixture
def master(make_master):
    """A master with 50 items (ids 1..50)."""
    return make_master(items=[("o", {"title": f"item {n}", "amount": str(n)})
                              for n in range(1, 51)])


def pages(master):
    """(offset, maxRecords) of every list_items request."""
    result = []
    for r in api_requests(master):
        params = {**r.query, **r.form}
        if params.get("action") == ["list_items"] or params.get("route", [""])[0].count("/") == 1:
            result.append((int(params["offset"][0]), int(params["maxRecords"][0])))
    return result


def ids(items):
    return [i["itemId"] for i in items]


def test_one_large_page_then_a_short_probe(master, gen):
    with make_client(master, gen) as c:
        assert ids(c.iter_items(1)) == list(range(1, 51))
    # 50 < 1000 could be the master's cap: one more page of 50 says it was the end.
    assert pages(master) == [(0, 1000), (50, 50)]


def test_exact_multiple_of_the_page_size(master, gen):
    with make_client(master, gen) as c:
        assert ids(c.iter_items(1, page_size=25)) == list(range(1, 51))
    assert pages(master) == [(0, 25), (25, 25), (50, 25)]


def test_master_capping_max_records_at_20(master, gen):
    master.settings.max_records_cap = 20
    with make_client(master, gen) as c:
        assert ids(c.iter_items(1)) == list(range(1, 51))
    assert pages(master) == [(0, 1000), (20, 20), (40, 20)]


def test_master_ignoring_offset_is_an_error_not_a_loop(master, gen):
    master.settings.ignore_offset = True
    with make_client(master, gen) as c:
        seen = []
        with pytest.raises(errors.OffsetIgnored) as caught:
            for item in c.iter_items(1, page_size=20):
                seen.append(item["itemId"])
    assert seen == list(range(1, 21))  # the first page, once; then the error
    assert "ignores `offset`" in str(caught.value)
    # The page at offset 20 brought nothing new; the first page, asked for again, was that
    # same page: the master ignores offset (a list that moved would start otherwise).
    assert pages(master) == [(0, 20), (20, 20), (0, 20)]


@pytest.mark.parametrize("order", ["ordered", "unordered"])
def test_a_list_moving_under_the_pages_is_read_on_not_refused(master, gen, order):
    """Items edited while the pages are read enter the modifiedSince window ahead of the
    offset reached: the next page repeats rows already sent, which is no reason to say the
    master ignores offset."""
    master.settings.unordered = order == "unordered"
    rank = (lambda i: (i * 7919) % 101) if order == "unordered" else (lambda i: i)
    by_rank = sorted(master.items, key=rank)
    window, entering = by_rank[-12:], by_rank[:5]  # the 5 come first in the master's order
    old = master.now() - 3600
    for item in master.items.values():
        item["lastModif"] = old + 600 if item["itemId"] in window else old

    def edit_some(stage, action, number):
        if stage == "before" and action == "list_items" and \
                master.faults.seen["list_items"] == 2:
            for item_id in entering:
                master.items[item_id]["lastModif"] = master.now()

    master.faults.hook = edit_some
    with make_client(master, gen) as c:
        got = ids(c.iter_items(1, modified_since=old + 1, page_size=5))
    assert len(got) == len(set(got))  # each item once
    assert set(window) <= set(got)  # everything in the window from the start


def test_master_ignoring_offset_with_a_cap(master, gen):
    master.settings.ignore_offset = True
    master.settings.max_records_cap = 20
    with make_client(master, gen) as c, pytest.raises(errors.OffsetIgnored):
        list(c.iter_items(1))


def test_unordered_pages_give_every_item_once(master, gen):
    master.settings.unordered = True
    with make_client(master, gen) as c:
        got = ids(c.iter_items(1, page_size=7))
    assert sorted(got) == list(range(1, 51)) and len(got) == 50
    assert got != sorted(got)


def test_items_repeated_across_pages_are_given_once(master, gen):
    # An insert on the master between two pages shifts the rows (no ORDER BY in Tiki, W9).
    with make_client(master, gen) as c:
        stream = c.iter_items(1, page_size=10)
        first = [next(stream) for _ in range(10)]
        master.settings.unordered = False
        for item_id in (3, 4):  # delete two rows already read: later pages shift back by 2
            del master.items[item_id]
        rest = list(stream)
    assert ids(first) == list(range(1, 11))
    got = ids(first) + ids(rest)
    assert len(got) == len(set(got))
    # Rows 11 and 12 slid into the first page's window and were skipped: the known cost of
    # offset paging. Reload (issue of its own) compares ids, so they show up then.
    assert set(range(13, 51)) <= set(got)


def test_read_retried_on_503_for_a_page(master, gen):
    master.settings.fail_pages = {2}
    with make_client(master, gen) as c:
        assert ids(c.iter_items(1, page_size=20)) == list(range(1, 51))
    assert pages(master) == [(0, 20), (20, 20), (20, 20), (40, 20)]


def test_failure_on_a_page_after_the_retries(master, gen):
    master.settings.fail_pages = {2, 3, 4}
    with make_client(master, gen, retries=2) as c:
        stream = c.iter_items(1, page_size=20)
        assert len([next(stream) for _ in range(20)]) == 20
        with pytest.raises(errors.ServerError) as caught:
            next(stream)
    assert caught.value.status == 503
    assert len(pages(master)) == 4  # page 1, then page 2 three times


def test_500_is_not_retried(master, gen):
    master.settings.fail_status = 500
    master.settings.fail_pages = {1}
    with make_client(master, gen) as c, pytest.raises(errors.ServerError):
        list(c.iter_items(1))
    assert len(pages(master)) == 1


def test_small_page_size(master, gen):
    with make_client(master, gen) as c:
        assert ids(c.iter_items(1, page_size=1, status="o")) == list(range(1, 51))


def item_pages(client, **kw):
    return [ids(page) for page in client.iter_item_pages(1, **kw)]


def test_pages_asked_for_ahead_come_in_order_each_item_once(master, gen):
    with make_client(master, gen) as c:
        got = item_pages(c, page_size=10, ahead=3)
    assert got == [list(range(n, n + 10)) for n in range(1, 51, 10)]
    offsets = {offset for offset, _ in pages(master)}
    # Every page once, then at most `ahead` pages past the end, all answered before the end.
    assert set(range(0, 60, 10)) <= offsets <= set(range(0, 80, 10))
    assert {size for _, size in pages(master)} == {10}


def test_pages_ahead_start_once_the_master_honours_the_size(master, gen):
    master.settings.max_records_cap = 20
    with make_client(master, gen) as c:
        got = item_pages(c, ahead=2)
    assert got == [list(range(1, 21)), list(range(21, 41)), list(range(41, 51))]
    assert pages(master)[:2] == [(0, 1000), (20, 20)]  # the cap is found before any ahead


def test_a_failed_page_asked_for_ahead_stops_the_stream_in_order(master, gen):
    master.settings.fail_status = 500
    master.settings.fail_pages = {3}  # the third request, whichever page it asks for
    with make_client(master, gen) as c:
        got = []
        with pytest.raises(errors.ServerError):
            for page in c.iter_item_pages(1, page_size=10, ahead=2):
                got.extend(ids(page))
    # The pages before the failed one, in order, with no gap; nothing after it.
    assert got == list(range(1, len(got) + 1)) and len(got) in (10, 20, 30)


def test_a_master_ignoring_offset_is_found_with_pages_ahead(master, gen):
    master.settings.ignore_offset = True
    with make_client(master, gen) as c, pytest.raises(errors.OffsetIgnored):
        item_pages(c, page_size=20, ahead=2)


@pytest.fixture
def sessions_used(monkeypatch):
    """{requests.Session: {thread ids that sent through it}} for every request sent."""
    used = {}
    send = requests.Session.send

    def recording(self, request, **kw):
        used.setdefault(self, set()).add(threading.get_ident())
        return send(self, request, **kw)

    monkeypatch.setattr(requests.Session, "send", recording)
    return used


def test_pages_asked_for_ahead_never_share_a_session_across_threads(master, gen,
                                                                     sessions_used):
    with make_client(master, gen) as c:
        got = item_pages(c, page_size=10, ahead=3)
    assert got == [list(range(n, n + 10)) for n in range(1, 51, 10)]
    assert len(sessions_used) > 1  # the pages ahead came through other sessions
    assert all(len(threads) == 1 for threads in sessions_used.values())


def test_a_client_that_cannot_fork_asks_for_one_page_at_a_time(master, gen, sessions_used):
    session = requests.Session()  # injected: the client may not make others like it
    with make_client(master, gen, session=session) as c:
        assert not c.can_fork
        got = item_pages(c, page_size=10, ahead=3)
    session.close()
    assert got == [list(range(n, n + 10)) for n in range(1, 51, 10)]
    assert pages(master) == [(offset, 10) for offset in range(0, 60, 10)]
    assert list(sessions_used) == [session] and len(sessions_used[session]) == 1
