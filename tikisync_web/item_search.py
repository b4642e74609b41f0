"""An item list's search (items.list_items): the words a shown label holds, the others looked up
in the database's full-text index (SQLite's FTS5 trigram table, PostgreSQL's pg_trgm index;
MariaDB scans), the count stopped at a bound."""
import functools
import operator

import peewee as pw

from . import dbobjects, items
from .db import database, is_sqlite
from .fields import choices, field_type, is_multiple
from .models import Item, Tracker


class Total(int):
    """How many items a list holds. `exact` False: more than this many (a search stops
    counting at COUNT_CAP, or at the end of the page asked for when that is further)."""

    exact = True

    @classmethod
    def more_than(cls, count):
        total = cls(count)
        total.exact = False
        return total


def search(query, tracker, fields, words, by_id, bound):
    """(query, Total, order) of a search: `order` is the full-text table's rowid when that
    table leads (by_id: the list in id order; the page is then taken in that order), else
    None. Counts at most `bound` + 1 matches."""
    shown = _shown_labels(fields)
    plain = []  # words no shown label holds: looked up together in the search text
    for word in words:
        labelled = _label_match(word, shown)
        if labelled is None:
            plain.append(word)
        else:
            query = query.where(in_search_text([word]) | labelled)
    # Led by the full-text table only when it holds all the tracker's items: while a reload's
    # are still being indexed (sync/search_index.py), _in_search_text scans those too.
    led = by_id and _fts_words(plain) and not _indexing_pending(tracker)
    if led:  # the first pages from the full-text index, in id order, stopping early
        query, order = _fts_driven(query, tracker, plain)
    else:
        if plain:
            query = query.where(in_search_text(plain))
        if not is_sqlite():  # SQLite's index on tracker_id holds the ids in order already
            query = query.where(id_range(tracker, Item.id))
        order = Item.id
    # In id order, so the count stops at its bound (the full-text table's rowids, or an id
    # index: kept to the tracker's id range, a planner that walks the ids of the database
    # filtering on the tracker does not step over the other trackers' rows first).
    found = _count(query.select(Item.id).order_by(order).limit(bound + 1))
    total = Total.more_than(bound) if found > bound else Total(found)
    return query, total, order if led else None


def _count(query):
    """Rows of `query`, kept as it is (peewee's count() drops the ORDER BY that makes the
    full-text table lead)."""
    return pw.Select([query.alias("found")], [pw.fn.COUNT(pw.SQL("*"))]).bind(database).scalar()


def _shown_labels(fields):
    """[(field, [(value, label)], multiple)] of the fields whose list shows a label in place of
    the stored value: dropdowns and multi-selects (users, categories and linked items of a
    clone are such fields), and local item links."""
    found = []
    for field in fields:
        kind = field_type(field.type).kind
        if field.type == "r":
            pairs = items.choice_source(field)
        elif kind in ("choice", "multichoice"):
            pairs = choices(field)
        else:
            continue
        pairs = [(v, label) for v, label in pairs if label != v]
        if pairs:
            found.append((field, pairs, kind == "multichoice" or is_multiple(field)))
    return found


def _label_match(word, shown):
    """The items showing the word in a label the list shows in place of the stored value, or
    None when no shown label holds it."""
    condition = None
    for field, pairs, multiple in shown:
        codes = [v for v, label in pairs if word in label.lower()]
        if not codes:
            continue
        column = Item.values[field.perm_name].as_text()
        found = column.in_(codes)
        if multiple:
            for code in codes:
                found |= (column.startswith(code + ",") | column.endswith("," + code) |
                          column.contains("," + code + ","))
        condition = found if condition is None else condition | found
    return condition


def in_search_text(words):
    """Items whose search text holds every word. On SQLite, words of 3 characters or more are
    looked up together in the FTS5 trigram index (dbobjects.py: the same substring match,
    without reading every row); PostgreSQL's trigram index serves the LIKE itself. Items
    a reload added whose indexing is pending (sync/search_index.py) are scanned."""
    conditions, indexed = [], []
    for word in words:
        if len(word) >= 3 and dbobjects.search_ready(database):
            indexed.append(word)
        elif isinstance(database.obj, pw.PostgresqlDatabase):  # NULL: a reload's, not made yet
            conditions.append(_pg_like(Item.search_text, word) | (
                Item.search_text.is_null()
                & _pg_like(dbobjects.pg_search_text(Item.values), word)))
        else:
            conditions.append(Item.search_text.contains(word))
    if indexed:
        table = dbobjects.FTS_TABLE
        match = " AND ".join('"' + word.replace('"', '""') + '"' for word in indexed)
        # Items a reload added but whose indexing is still pending are scanned instead.
        pending, likes = dbobjects.pending_scan(indexed)
        conditions.append(Item.id.in_(pw.SQL(
            f'(SELECT rowid FROM "{table}" WHERE "{table}" MATCH ? UNION ALL {pending})',
            [match, *likes])))
    return functools.reduce(operator.and_, conditions)


def _pg_like(column, word):
    """`column` LIKE '%word%': the search text and the words are lower-cased already, so LIKE,
    not peewee's ILIKE, which lower-cases every row it reads again (5 times slower)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return pw.Expression(column, pw.OP.LIKE, pw.NodeList((
        pw.Value(f"%{escaped}%", converter=False), pw.SQL("ESCAPE"),
        pw.Value("\\", converter=False))))


def _indexing_pending(tracker):
    """True while some of the tracker's items wait for their full-text indexing (read from the
    database: a reload may have committed since `tracker` was read)."""
    return (Tracker.select(Tracker.search_pending_from).where(Tracker.id == tracker.id)
            .scalar()) is not None


def _fts_words(words):
    """True when the full-text table can lead the search: SQLite's FTS5 trigram table and a
    word of 3 characters or more."""
    return dbobjects.search_ready(database) and any(len(word) >= 3 for word in words)


def _fts_driven(query, tracker, words):
    """`query` joined to the FTS5 table, led by it: FTS5 hands out matching rowids in order
    (either direction), so ORDER BY rowid LIMIT stops after the page, and the count stops at
    its cap, where `id IN (SELECT rowid ... MATCH)` first collects every match of the
    database (half a million for a common word). The rowids are kept to the tracker's id range
    (two index lookups), so a small tracker does not walk a large one's matches."""
    fts = pw.Table(dbobjects.FTS_TABLE, ("rowid", "search_text"))
    indexed = ['"' + word.replace('"', '""') + '"' for word in words if len(word) >= 3]
    query = query.join(fts, on=(fts.rowid == Item.id)).where(
        pw.Expression(fts.search_text, "MATCH", " AND ".join(indexed)),
        id_range(tracker, fts.rowid))
    for word in words:
        if len(word) < 3:
            query = query.where(Item.search_text.contains(word))
    return query, fts.rowid


def id_range(tracker, column):
    """`column` between the tracker's lowest and highest item id: two index lookups.

    PostgreSQL turns MIN(id) WHERE tracker_id = T into a walk of the primary key from the
    start when T holds most rows, over every row of the trackers before it; a bound on the
    pair (tracker_id, id) keeps it to the (tracker, id) index. A tracker without items gets
    an empty range either way (the other trackers' bounds cross, or are NULL)."""
    if isinstance(database.obj, pw.PostgresqlDatabase):
        pair = pw.Tuple(Item.tracker, Item.id)
        low = (Item.select(Item.id).where(pair >= pw.Tuple(tracker.id, 0))
               .order_by(Item.tracker, Item.id).limit(1))
        high = (Item.select(Item.id).where(pair <= pw.Tuple(tracker.id, 2 ** 31 - 1))
                .order_by(Item.tracker.desc(), Item.id.desc()).limit(1))
        # Values, not subqueries: the planner then knows how much of the table the range
        # holds, and weighs walking it against the trigram index (a rare word) by that.
        low, high = pw.Select(None, [low, high]).bind(database).tuples().get()
        low, high = (0, -1) if low is None or high is None else (low, high)
    else:
        mine = Item.tracker == tracker
        low = Item.select(pw.fn.MIN(Item.id)).where(mine)
        high = Item.select(pw.fn.MAX(Item.id)).where(mine)
    return (column >= low) & (column <= high)
