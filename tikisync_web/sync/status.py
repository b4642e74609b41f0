"""Which local items differ from the master, and how (DESIGN §4.1).

Nothing here compares two machines' clocks. The master's own clock (its HTTP Date header)
only narrows which remote items to fetch (`modifiedSince`, minus a margin); what changed is
decided by comparing values with each item's baseline, field by field.
"""
import json
from datetime import datetime, timezone

from ..db import database
from ..models import Baseline, Item
from ..remote import exportfmt
from . import bulk
from .reload import prefetch, project, synced_perms
from .values import STATUS, content_hash, three_way

MARGIN = 120  # seconds taken off the master's clock: requests in flight, clocks in seconds


def perms_of(tracker):
    """permNames of the tracker's fields that the master has too (as last adopted)."""
    return [p for p, _ in synced_perms(tracker, exportfmt.parse(tracker.remote_schema or ""))]


def verdicts_for(item_values, item_status, base, perms):
    """Field verdicts of one item against its Baseline row (see values.three_way)."""
    theirs = base.theirs if base.theirs is not None else base.values
    theirs_status = base.theirs_status or base.status
    return three_way(item_values, base.values, theirs, perms, item_status, base.status,
                     theirs_status)


def classify(tracker):
    """{"new", "modified", "conflicts", "deleted_on_master"}: lists of local item ids."""
    perms = perms_of(tracker)
    new = [i for (i,) in Item.select(Item.id).where(Item.tracker == tracker,
                                                     Item.remote_id.is_null())
           .order_by(Item.id).tuples()]
    # Only items whose hash left the baseline, or where the master moved, are looked at.
    query = (Item.select(Item.id, Item.values, Item.status, Item.hash, Baseline)
             .join(Baseline)
             .where(Item.tracker == tracker,
                    (Item.hash != Baseline.hash) | Baseline.theirs_status.is_null(False) |
                    (Baseline.deleted_on_master == True))  # noqa: E712
             .order_by(Item.id))
    modified, conflicts, deleted = [], [], []
    for item in query:
        base = item.baseline
        if base.deleted_on_master:
            if item.hash != base.hash:
                deleted.append(item.id)
            continue
        verdicts = verdicts_for(item.values, item.status, base, perms)
        if "conflict" in verdicts.values():
            conflicts.append(item.id)
        elif "local" in verdicts.values():
            modified.append(item.id)
    return {"new": new, "modified": modified, "conflicts": conflicts,
            "deleted_on_master": deleted}


def check_remote(tracker, client, margin=MARGIN):
    """Record what changed on the master since the last check, without downloading it all.

    Remote items modified since (the master's clock at the previous check - margin) are
    compared with their baselines; where the master holds something else, the baseline keeps
    it as "theirs" (the sync tab judges it; the next reload takes it). Returns counts.
    """
    tracker = type(tracker).get_by_id(tracker.id)  # the caller's copy may predate a reload
    since = tracker.remote_clock_at_check or tracker.remote_clock_at_reload
    if since is None:
        raise ValueError(f"tracker {tracker.id} was never reloaded: reload it first")
    export, remote_fields = client.export_fields(tracker.remote_tracker_id)
    clock = client.last_server_time
    synced = synced_perms(tracker, remote_fields)
    seen = changed = 0
    items = client.iter_items(tracker.remote_tracker_id, modified_since=max(0, since - margin))
    for page in prefetch(items, 1000):
        seen += len(page)
        ids = [r["itemId"] for r in page]
        rows = (Baseline.select(Baseline.id, Baseline.hash, Baseline.theirs_status,
                                Baseline.remote_modified, Item.remote_id)
                .join(Item).where(Item.tracker == tracker, Item.remote_id.in_(ids)).tuples())
        known = {r[4]: r for r in rows}
        updates = []
        for remote in page:
            row = known.get(remote["itemId"])
            if row is None:
                continue  # new on the master: the next reload brings it
            base_id, base_hash, theirs_status, remote_modified, _ = row
            values, status = project(remote["fields"], synced), remote.get("status") or "o"
            if content_hash(values, status) == base_hash:
                if theirs_status is not None:
                    updates.append((None, None, remote.get("lastModif"), base_id))
                continue
            changed += 1
            updates.append((json.dumps(values, ensure_ascii=False), status,
                            remote.get("lastModif"), base_id))
        with database.atomic():
            bulk.update_rows(Baseline, ["theirs", "theirs_status", "remote_modified"], updates)
    type(tracker).update(remote_clock_at_check=clock).where(
        type(tracker).id == tracker.id).execute()
    return {"checked": seen, "changed_on_master": changed}


def last_reload_iso(tracker):
    if not tracker.last_reload_at:
        return None
    return datetime.fromtimestamp(tracker.last_reload_at, tz=timezone.utc).isoformat()


def status(tracker, client=None):
    """The CLI's `status`: check the master (when a client is given), then classify."""
    checked = check_remote(tracker, client) if client is not None else None
    result = classify(tracker)
    result["last_reload"] = last_reload_iso(tracker)
    if checked is not None:
        result["checked"] = checked
    return result


def field_table(item, perms):
    """Rows for the three-way view: perm, base, mine, theirs, verdict."""
    base = item.baseline
    theirs = base.theirs if base.theirs is not None else base.values
    verdicts = verdicts_for(item.values, item.status, base, perms)
    rows = []
    for perm in perms + [STATUS]:
        if perm == STATUS:
            b, m, t = base.status, item.status, base.theirs_status or base.status
        else:
            b = (base.values or {}).get(perm, "")
            m = (item.values or {}).get(perm, "")
            t = (theirs or {}).get(perm, "")
        rows.append({"perm": perm, "base": b, "mine": m, "theirs": t,
                     "verdict": verdicts.get(perm, "")})
    return rows

