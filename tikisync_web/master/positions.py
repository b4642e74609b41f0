"""Deep offsets made cheap (issue 17).

Tiki's clients page by offset (tiki-protocol §11: rows in itemId order, `offset` rows
skipped). A database answers `OFFSET k` by stepping over k rows, so the last page of a
1,000,000-item tracker would cost a scan of the tracker. Instead we remember where pages
start, as "the items from position p on are those with an id above L", and turn an offset
into a seek `id > L` from the nearest remembered position at or below it:

* the end of every page served (a client reading page after page asks for exactly that
  position next), the last RECENT of them per list;
* a grid, every GRID positions, walked forward with index-only `LIMIT 1 OFFSET GRID-1`
  hops the first time an offset beyond it is asked for (each hop's cost is bounded by GRID,
  whatever the offset).

So no query steps over more than GRID rows. What is remembered holds for one
`Tracker.items_epoch`, which database triggers move on at every deletion or status change of
the tracker's items (dbobjects.py); ids are given by the database, always above every id in
use, so inserting never moves a position. Without those triggers nothing is remembered.
Memory: per list (tracker, epoch, statuses) at most RECENT + size/GRID pairs of integers;
at most LISTS lists per application.
"""
import threading
from collections import OrderedDict

import peewee as pw
from flask import current_app

from ..db import database, is_mysql, is_sqlite
from ..dbobjects import SEEK_INDEX, positions_tracked
from ..models import Item

GRID = 5000
RECENT = 256
LISTS = 64


class _Positions:
    def __init__(self, grid, recent):
        self.grid = [None]  # grid[i]: the id after which position i * GRID starts (0: none)
        self.recent = OrderedDict()  # position -> id after which it starts
        self.grid_step, self.recent_cap = grid, recent

    def nearest(self, offset):
        index = min(offset // self.grid_step, len(self.grid) - 1)
        best = (index * self.grid_step, self.grid[index])
        for position, after in self.recent.items():
            if best[0] < position <= offset:
                best = (position, after)
        return best

    def remember(self, position, after):
        self.recent[position] = after
        self.recent.move_to_end(position)
        while len(self.recent) > self.recent_cap:
            self.recent.popitem(last=False)


class Memory:
    """The positions remembered by one application (shared by its request threads)."""

    def __init__(self, grid=None, recent=None, lists=None):
        self._lock = threading.Lock()
        self._lists = OrderedDict()
        self._counts = OrderedDict()  # key -> (id, rows up to that id)
        self._grid, self._recent, self._cap = grid or GRID, recent or RECENT, lists or LISTS

    def tracked(self):
        return positions_tracked(database)

    def _list(self, key):
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = _Positions(self._grid, self._recent)
            while len(self._lists) > self._cap:
                self._lists.popitem(last=False)
        self._lists.move_to_end(key)
        return found

    def seek(self, key, offset, base):
        """(position, after id) to start from for `offset`: after id None means the start of
        the list; position None means the list ends before `offset`. `base` is the query
        of the list (without order, limit or offset)."""
        step = self._grid
        with self._lock:
            positions = self._list(key)
            position, after = positions.nearest(offset)
            if offset - position >= step:  # go on from the end of the grid
                position = (len(positions.grid) - 1) * step
                after = positions.grid[-1]
        while offset - position >= step:
            # One index-only hop of `step` rows (never further), remembered on the grid.
            hop = base.select(Item.id)
            if after is not None:
                hop = seek(hop, after)
            found = hop.order_by(Item.id).limit(1).offset(step - 1).scalar()
            if found is None:
                return None, None
            position, after = position + step, found
            with self._lock:
                if len(positions.grid) == position // step:
                    positions.grid.append(after)
        return position, after

    def count(self, key, base):
        """How many rows `base` (a list's query, without order or limit) holds, from the count
        remembered for `key`: the rows up to a remembered id stay the same within an epoch
        (new ids are above it, deletions and status changes move the epoch on), so only the
        ids above it are counted, one index range.

        What is remembered must have every id up to it committed. SQLite's one writer at a
        time takes ids above every committed one. PostgreSQL's sequence hands out ids that
        may commit out of order (a reload's, after a later edit's): there only the ids up to
        those handed out before no transaction was writing items are remembered (_settled).
        MariaDB counts every time (nothing there shows which ids are settled)."""
        with self._lock:
            after, known = self._counts.get(key, (None, 0))
        settled = None if is_sqlite() else _settled()  # before the count's snapshot
        query = base.select(pw.fn.COUNT(Item.id), pw.fn.MAX(Item.id))
        if settled is not None:
            query = query.select_extend(pw.fn.COUNT(Item.id).filter(Item.id <= settled),
                                        pw.fn.MAX(Item.id).filter(Item.id <= settled))
        found, last, *below = (seek(query, after) if after is not None else query
                               ).tuples().get()
        if is_sqlite():
            below = [found, last]
        if below and below[1] is not None:
            with self._lock:
                self._counts[key] = (below[1], known + below[0])
                self._counts.move_to_end(key)
                while len(self._counts) > self._cap:
                    self._counts.popitem(last=False)
        return known + found

    def remember(self, key, position, after):
        with self._lock:
            self._list(key).remember(position, after)

    def window(self, key, base, start, count):
        """Rows `start` .. `start + count` of `base` (a query of whole Item rows) in id order,
        found from the nearest remembered position; the end is remembered in turn."""
        position, after = self.seek(key, start, base)
        if position is None or count <= 0:
            return []
        query = seek(base, after) if after is not None else base
        query = query.order_by(Item.id).limit(count)
        if start - position:
            query = query.offset(start - position)
        rows = list(query)
        if rows:
            self.remember(key, start + len(rows), rows[-1].id)
        return rows


def _settled():
    """PostgreSQL: the highest id its sequence had handed out when no other transaction held
    a write lock on the item table, read just now; None while one does. A transaction takes
    that lock before it draws an id for an item and keeps it until it ends, so every id up
    to this one is committed or gone for any snapshot taken after (the sequence hands out
    one id at a time: peewee's SERIAL has no per-session cache)."""
    table = Item._meta.table_name.replace('"', '""')
    # The lock table is read after the sequence: the correlated subquery waits for its row.
    drawn, busy = database.execute_sql(
        "WITH drawn AS MATERIALIZED (SELECT pg_sequence_last_value(pg_get_serial_sequence("
        f"'\"{table}\"', 'id')::regclass) AS id) SELECT drawn.id, EXISTS (SELECT 1 FROM "
        f"pg_locks WHERE drawn.id IS NOT NULL AND relation = '\"{table}\"'::regclass AND "
        "database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
        "mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', "
        "'AccessExclusiveLock') AND pid IS DISTINCT FROM pg_backend_pid()) FROM drawn"
    ).fetchone()
    return None if busy else drawn


def seek(query, after):
    """`query` restricted to the ids above `after`, as one index range on every database."""
    query = query.where(Item.id > after)
    if is_mysql():  # its optimizer would rather read the tracker's entries from the start
        query = query.from_(pw.NodeList((Item, pw.SQL(f"FORCE INDEX (`{SEEK_INDEX}`)"))))
    return query


def memory():
    """This application's Memory (made on first use)."""
    state = current_app.extensions.setdefault("tikisync_master_positions", {})
    if "memory" not in state:
        state["memory"] = Memory()
    return state["memory"]
