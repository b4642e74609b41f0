"""Helpers for sync tests: a credential for a fake master, a clone, a client, snapshots."""
from tests.support import fake_master as fm
from tikisync_web import credentials
from tikisync_web.jobs import handlers
from tikisync_web.models import Baseline, Item, Tracker
from tikisync_web.sync import clone


def config(app):
    return handlers.remote_config(app.config)


def connect(app, master, method="bearer"):
    """Store a credential for `master` and return it."""
    secret = fm.TOKEN if method == "bearer" else fm.PASSWORD
    return credentials.add(config(app), identifier=f"fake{master.port}", url=master.url,
                           method=method, username=fm.USER, secret=secret, allow_http=True)


def client(app, url):
    return credentials.client_for(url, config=config(app))


def make_clone(app, master, remote_tracker_id=1):
    with client(app, master.url) as c:
        plan = clone.plan_clone(c, remote_tracker_id)
        return clone.create_clone(plan, c.base_url, protocol=c.generation)


def tracker_state(tracker):
    """Everything a user could see of a tracker's items, for byte-for-byte comparisons."""
    tracker = Tracker.get_by_id(tracker.id)
    items = [(i.id, i.remote_id, i.status, sorted((i.values or {}).items()), i.hash, i.modified)
             for i in Item.select().where(Item.tracker == tracker).order_by(Item.id)]
    bases = [(b.item_id, sorted((b.values or {}).items()), b.status, b.hash, b.deleted_on_master,
              b.theirs) for b in Baseline.select().join(Item)
             .where(Item.tracker == tracker).order_by(Baseline.item)]
    return items, bases, tracker.last_reload_at
