"""Helpers for sync tests: a credential for a fake master, a clone, a client, snapshots, and
the set-up many of them share: a reloaded clone whose item was edited here and on the master
(a conflict), as a user sees it after signing in, cloning and checking the master.

    tracker = reloaded_clone(app, fake_master)                  # connect, clone, reload
    edited = edit_here(2, {"amount": "77"})                      # modified here only
    clash = conflict(app, tracker, fake_master, 1, {"title": "Mine"}, {"title": "Theirs"})

Browser tests call them inside `database.connection_context()`; the `db` fixture opens one
for the others.
"""
from tests.support import fake_master as fm
from tikisync_web import credentials
from tikisync_web import items as item_svc
from tikisync_web.jobs import handlers
from tikisync_web.models import Baseline, Item, Tracker
from tikisync_web.sync import clone
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status as status_mod


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


def reloaded_clone(app, master, remote_tracker_id=1):
    """A credential for `master`, a clone of its tracker and the clone's first reload: the
    items as the master holds them, each in sync."""
    connect(app, master)
    tracker = make_clone(app, master, remote_tracker_id)
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c)
    return tracker


def edit_here(remote_id, values, status=None, username="t"):
    """The local item of remote item `remote_id`, edited here (as a user saves the form)."""
    item = Item.get(Item.remote_id == remote_id)
    item_svc.update_item(item, values, status=status, username=username)
    return Item.get_by_id(item.id)


def edit_on_master(master, remote_id, values, status=None):
    """Remote item `remote_id` changed on the master (nothing here knows yet)."""
    master.items[remote_id]["fields"].update(values)
    if status is not None:
        master.items[remote_id]["status"] = status


def check_master(app, tracker, master):
    """What a "Check the master for changes" finds, recorded (no item changes here)."""
    with client(app, master.url) as c:
        status_mod.check_remote(tracker, c)


def conflict(app, tracker, master, remote_id, mine, theirs, *, status=None,
             theirs_status=None, username="t"):
    """Remote item `remote_id` edited here to `mine` and on the master to `theirs` (the same
    fields or status with other values), then the master checked: the clone's item (returned)
    is in conflict."""
    item = edit_here(remote_id, mine, status=status, username=username)
    edit_on_master(master, remote_id, theirs, status=theirs_status)
    check_master(app, tracker, master)
    return Item.get_by_id(item.id)


def tracker_state(tracker):
    """Everything a user could see of a tracker's items, for byte-for-byte comparisons."""
    tracker = Tracker.get_by_id(tracker.id)
    items = [(i.id, i.remote_id, i.status, sorted((i.values or {}).items()), i.hash, i.modified)
             for i in Item.select().where(Item.tracker == tracker).order_by(Item.id)]
    bases = [(b.item_id, sorted((b.values or {}).items()), b.status, b.hash, b.deleted_on_master,
              b.theirs) for b in Baseline.select().join(Item)
             .where(Item.tracker == tracker).order_by(Baseline.item)]
    return items, bases, tracker.last_reload_at
