"""Test data built through the models and the item service (fast, and validated like the UI)."""
from tikisync_web import items as svc
from tikisync_web.db import database
from tikisync_web.models import Field, Item, Tracker

# One field of each widget family the foundation's forms handle.
TYPED_FIELDS = [
    # perm, label, type, options, mandatory
    ("title", "Title", "t", {}, True),
    ("contact", "Contact email", "m", {}, False),
    ("amount", "Amount", "n", {}, False),
    ("priority", "Priority", "d", {"options": ["1=Low", "2=High", "3=Urgent"]}, False),
    ("due", "Due", "j", {"datetime": "d"}, False),
    ("done", "Done", "c", {}, False),
    ("colours", "Colours", "M", {"options": ["red", "green", "blue"]}, False),
    ("homepage", "Homepage", "L", {}, False),
]


def make_tracker(name="Bugs", fields=TYPED_FIELDS, description=""):
    with database.connection_context(), database.atomic():
        tracker = Tracker.create(name=name, description=description)
        for position, (perm, label, code, options, mandatory) in enumerate(fields, start=1):
            Field.create(tracker=tracker, perm_name=perm, name=label, type=code, options=options,
                         mandatory=mandatory, position=position * 10,
                         flags={"isTblVisible": "y", "isMain": "y" if position == 1 else "n"})
        return tracker


def add_item(tracker, status="o", **values):
    with database.connection_context():
        return svc.create_item(tracker, values, status=status, username="seed")


def bulk_items(tracker, count, make_values=None, batch=1000, start=0):
    """Insert `count` items fast: insert_many in batches inside one transaction."""
    make_values = make_values or (lambda n: {"title": f"item {n:06d}", "amount": str(n)})
    with database.connection_context(), database.atomic():
        rows = []
        for n in range(start, start + count):
            values = make_values(n)
            rows.append({"tracker": tracker.id, "status": "o", "values": values,
                         "search_text": " ".join(str(v) for v in values.values()).lower()})
            if len(rows) == batch:
                Item.insert_many(rows).execute()
                rows = []
        if rows:
            Item.insert_many(rows).execute()


def item_count(tracker_id=None):
    with database.connection_context():
        query = Item.select()
        if tracker_id is not None:
            query = query.where(Item.tracker == tracker_id)
        return query.count()


def values_of(item_id):
    with database.connection_context():
        item = Item.get_by_id(item_id)
        return dict(item.values), item.status
