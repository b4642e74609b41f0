"""Paging through a master's lists (tiki-protocol.md §3.2, W9), stricter than Tiki's own.

A large maxRecords first; a short page may be the master's cap, so one more page of that size
is asked for and, if it is full, that size is kept; rows are de-duplicated by key; a master
that ignores `offset` is detected (a later page brings nothing new) and reported instead of
looped on forever.
"""
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from . import errors as e
from .idset import IdSet


def page_lists(fetch, key, page_size, seen, ahead=1, base_url="the master"):
    """The rows of every page of `fetch(offset, size)` as one list of new rows per page
    (never an empty one); the keys of the rows go into `seen` (a set or an IdSet), which
    may be the caller's.

    With `ahead` > 1, once the master has sent a full page (so it honours the size), the
    next `ahead` pages are asked for at once on as many connections, and used in order: a
    master that serves requests in parallel (PHP workers, gunicorn) prepares them side by
    side. Past a short page (the end) the pages still asked for are dropped.
    """
    size, offset, cap_found, biggest = max(1, int(page_size)), 0, False, 0
    pending, pool = deque(), None  # futures of the pages from `offset` on, in order
    ended = False  # at the end, the pages still asked for are waited for (they are empty)
    try:
        while True:
            rows = pending.popleft().result() if pending else fetch(offset, size)
            count = len(rows)
            if not count:
                ended = True
                return
            if isinstance(seen, IdSet):
                add = seen.add  # says whether the id is new
                fresh = [row for row in rows if add(key(row))]
            else:
                fresh = []
                for row in rows:
                    if key(row) not in seen:
                        seen.add(key(row))
                        fresh.append(row)
            rows = None  # no page is kept here while the next one is waited for
            if offset and not fresh:
                raise e.OffsetIgnored(
                    f"{base_url} answered the page at offset {offset} with items it "
                    "had already sent: it ignores `offset`, so its list cannot be read "
                    "completely; fix the master (a Tiki does honour offset)",
                    url=base_url)
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
                biggest = max(biggest, count)
                continue
            biggest = max(biggest, count)
            if ahead > 1:
                if pool is None:
                    pool = ThreadPoolExecutor(ahead, thread_name_prefix="tikisync-page")
                while len(pending) < ahead:
                    pending.append(pool.submit(fetch, offset + size * len(pending), size))
    finally:
        if pool is not None:
            pool.shutdown(wait=ended, cancel_futures=True)
