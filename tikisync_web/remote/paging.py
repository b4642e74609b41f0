"""Paging through a master's lists (tiki-protocol.md §3.2, W9), stricter than Tiki's own.

A large maxRecords first; a short page may be the master's cap, so one more page of that size
is asked for and, if it is full, that size is kept; rows are de-duplicated by key; a master
that ignores `offset` is detected (a later page brings nothing new, and the first page asked
for again holds the same rows) and reported instead of looped on forever. A page that brings
nothing new while the first page has changed is a list that moved under the reader (items
edited or added meanwhile: a push's own updates enter its modifiedSince window): paging goes
on, and the de-duplication keeps each row once.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor

from . import errors as e
from .idset import IdSet

Fetch = Callable[[int, int], list]  # fetch(offset, size) -> the rows of one page


def page_lists(fetch: Fetch, key: Callable[[dict], Hashable], page_size: int, seen,
               ahead: int = 1, base_url: str = "the master",
               fetcher: Callable[[], tuple[Fetch, Callable[[], None]]] | None = None,
               ) -> Iterator[list]:
    """The rows of every page of `fetch(offset, size)` as one list of new rows per page
    (never an empty one); the keys of the rows go into `seen` (a set or an IdSet), which
    may be the caller's.

    With `ahead` > 1 and a `fetcher`, once the master has sent a full page (so it honours the
    size), the next `ahead` pages are asked for at once on as many connections, and used in
    order: a master that serves requests in parallel (PHP workers, gunicorn) prepares them side
    by side. Past a short page (the end) the pages still asked for are dropped. `fetcher()`
    gives each of those threads its own (fetch, close) pair: the caller's `fetch` keeps its
    HTTP session to the calling thread, since a requests.Session is not thread-safe. Without a
    fetcher, pages are asked for one at a time.
    """
    size, offset, cap_found, biggest = max(1, int(page_size)), 0, False, 0
    early = _Ahead(fetcher, ahead) if ahead > 1 and fetcher is not None else None
    ended = False  # at the end, the pages still asked for are waited for (they are empty)
    try:
        while True:
            rows = early.next() if early and early.pending else fetch(offset, size)
            count = len(rows)
            if not count:
                ended = True
                return
            fresh = _fresh(rows, key, seen)
            if offset and not fresh and _same_as_first(fetch, rows, key, size):
                raise e.OffsetIgnored(
                    f"{base_url} answered the page at offset {offset} with items it "
                    "had already sent: it ignores `offset`, so its list cannot be read "
                    "completely; fix the master (a Tiki does honour offset)",
                    url=base_url)
            # Otherwise a page of rows already seen means the list moved under us (items
            # edited or added meanwhile came before this offset): read on from here.
            rows = None  # no page is kept here while the next one is waited for
            if fresh:
                yield fresh
                fresh = None
            offset += count
            if count < size:
                if cap_found or count < biggest:
                    ended = True
                    return  # shorter than the master has shown it can send: the end
                # Either the end, or the master's cap on maxRecords: one more page tells.
                size, cap_found = count, True
            elif early is not None:
                early.fill(offset, size)
            biggest = max(biggest, count)
    finally:
        if early is not None:
            early.close(wait=ended)


class Unfiltered(Exception):
    """The master answered an itemId filter with other items: it has no such filter."""


def wanted_pages(pages: Iterator[list[dict]], wanted: set[int], strict: bool = False
                 ) -> Iterator[list[dict]]:
    """The items of `pages` whose itemId is in `wanted`, one list per page (never an empty
    one); stops reading once all are there. `strict`: a row outside `wanted` raises
    Unfiltered."""
    if not wanted:
        return
    remaining = set(wanted)
    for page in pages:
        kept = []
        for item in page:
            if item["itemId"] in remaining:
                remaining.discard(item["itemId"])
                kept.append(item)
            elif strict and item["itemId"] not in wanted:
                pages.close()
                raise Unfiltered()
        if kept:
            yield kept
        if not remaining:
            return  # everything asked for is here: no need to read further pages


def _same_as_first(fetch, rows, key, size):
    """True when the first page, asked for again now, holds the same rows as `rows` (a page
    further on that brought nothing new): the master ignores `offset`. A list that only moved
    (rows edited, added or removed meanwhile, the order of a master without ORDER BY) gives
    other rows at the start than further on."""
    first = fetch(0, size)
    return {key(row) for row in first} == {key(row) for row in rows}


def _fresh(rows, key, seen):
    """The rows whose key is not in `seen` yet; their keys are added to it."""
    if isinstance(seen, IdSet):
        add = seen.add  # says whether the id is new
        return [row for row in rows if add(key(row))]
    fresh = []
    for row in rows:
        if key(row) not in seen:
            seen.add(key(row))
            fresh.append(row)
    return fresh


class _Ahead:
    """Pages asked for before they are needed, by `count` threads, each fetching with its own
    pair from `fetcher()` (so with its own HTTP session)."""

    def __init__(self, fetcher, count):
        self.fetcher, self.count = fetcher, count
        self.pending = deque()  # futures of the pages from the next offset on, in order
        self.pool = None
        self.local = threading.local()
        self.closers, self.lock = [], threading.Lock()

    def fill(self, offset, size):
        """Ask for the pages from `offset` on until `count` of them are pending."""
        if self.pool is None:
            self.pool = ThreadPoolExecutor(self.count, thread_name_prefix="tikisync-page")
        while len(self.pending) < self.count:
            self.pending.append(self.pool.submit(self._fetch, offset + size * len(self.pending),
                                                 size))

    def next(self):
        return self.pending.popleft().result()

    def _fetch(self, offset, size):
        fetch = getattr(self.local, "fetch", None)
        if fetch is None:
            fetch, close = self.fetcher()
            self.local.fetch = fetch
            with self.lock:
                self.closers.append(close)
        return fetch(offset, size)

    def close(self, wait):
        """Ask for nothing more. With `wait`, the threads end here; without, a page still on
        its way is not waited for, and its thread's session is closed once it is answered."""
        if self.pool is None:
            return
        self.pool.shutdown(wait=wait, cancel_futures=True)
        if wait:
            self._close_sessions()
        else:
            threading.Thread(target=self._close_after, daemon=True,
                             name="tikisync-page-close").start()

    def _close_after(self):
        self.pool.shutdown(wait=True)
        self._close_sessions()

    def _close_sessions(self):
        with self.lock:
            closers, self.closers = self.closers, []
        for close in closers:
            close()
