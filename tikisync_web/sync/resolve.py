"""Conflict resolution and history restore: choices made by a person, applied locally.

Resolving never writes to the master: it decides what the local item and its baseline say,
so the next push sends exactly the chosen values. Taking theirs everywhere makes the local
item equal to the master's; keeping mine everywhere is "overwrite the master".
"""
from __future__ import annotations

from .. import audit
from ..db import write_transaction
from ..items import materialize, next_modified, search_text
from ..models import Baseline, Field, Item, ItemHistory
from ..values import STATUS_KEY, content_hash, norm
from .status import perms_of, verdicts_for

LEGACY_STATUS = "status"  # the item status's key before STATUS_KEY (choices, old history rows)


class ResolveError(ValueError):
    pass


def status_key(name: str, perms: list[str]) -> str:
    """The key `name` stands for among a choice's keys: STATUS_KEY for the item status, which
    `status` also names as long as no field among `perms` is called so."""
    return STATUS_KEY if name == LEGACY_STATUS and name not in perms else name


def resolve(item: Item, choices: dict, username: str = "", all_mine: bool = False,
            all_theirs: bool = False) -> Item | None:
    """Apply per-field choices {perm: "mine" | "theirs" | ("value", text)}; the item status
    is chosen under values.STATUS_KEY (or `status` when no field is called so).

    Every conflicting field needs a choice (or all_mine / all_theirs). Fields only the
    master changed are taken; the baseline becomes the master's values.
    """
    base = Baseline.get_or_none(Baseline.item == item)
    if base is None:
        raise ResolveError(f"item {item.id} was never synchronized: there is nothing to resolve")
    if base.deleted_on_master:
        return _resolve_deleted(item, base, username, all_mine, all_theirs, choices)
    perms = perms_of(item.tracker)
    choices = {status_key(k, perms): v for k, v in choices.items()}
    item.baseline = base
    verdicts = verdicts_for(item.values, item.status, base, perms)
    conflicts = [p for p, v in verdicts.items() if v == "conflict"]
    if all_mine or all_theirs:
        choices = {p: "mine" if all_mine else "theirs" for p in conflicts}
    unknown = [p for p in choices if p not in conflicts]
    if unknown:
        raise ResolveError(f"{', '.join(unknown)}: not in conflict on item {item.id} "
                           f"(conflicts: {', '.join(conflicts) or 'none'})")
    missing = [p for p in conflicts if p not in choices]
    if missing:
        raise ResolveError(f"choose mine or theirs for {', '.join(missing)} too")
    theirs = dict(base.theirs if base.theirs is not None else base.values)
    theirs_status = base.theirs_status or base.status
    mine, mine_status = dict(item.values or {}), item.status
    with write_transaction():
        for perm, verdict in verdicts.items():
            choice = choices.get(perm, "theirs" if verdict == "remote" else "mine")
            if isinstance(choice, (tuple, list)):
                new = choice[1]
            elif choice == "theirs":
                new = theirs_status if perm == STATUS_KEY else theirs.get(perm, "")
            else:
                continue
            old = mine_status if perm == STATUS_KEY else mine.get(perm, "")
            if norm(old) != norm(new):
                ItemHistory.create(item=item, side="local", action="resolve", perm_name=perm,
                                   old_value=str(old), new_value=str(new), username=username)
            if perm == STATUS_KEY:
                mine_status = new
            else:
                mine[perm] = new
        Item.update(values=mine, search_text=search_text(mine), status=mine_status,
                    hash=content_hash(mine, mine_status),
                    modified=next_modified(item.modified), modified_by=username).where(
            Item.id == item.id).execute()
        base_hash = content_hash(theirs, theirs_status)
        Baseline.update(values=theirs, status=theirs_status, hash=base_hash, theirs=None,
                        theirs_status=None).where(Baseline.id == base.id).execute()
        Item.update(base_hash=base_hash).where(Item.id == item.id).execute()
        audit.record("item.resolve", username, tracker=item.tracker_id, item_id=item.id,
                     choices={p: c if isinstance(c, str) else "value" for p, c in choices.items()})
    return Item.get_by_id(item.id)


def _resolve_deleted(item, base, username, all_mine, all_theirs, choices):
    """Deleted on the master, edited here: re-create it there (mine) or drop it (theirs)."""
    if all_mine:
        with write_transaction():
            base.delete_instance()
            Item.update(remote_id=None, base_hash=None, remote_modified=None).where(
                Item.id == item.id).execute()
            audit.record("item.resolve", username, tracker=item.tracker_id, item_id=item.id,
                         deleted_on_master="recreate")
        return Item.get_by_id(item.id)
    if all_theirs:
        with write_transaction():
            audit.record("item.resolve", username, tracker=item.tracker_id, item_id=item.id,
                         deleted_on_master="deleted here", values=item.values)
            item.delete_instance(recursive=True)
        return None
    raise ResolveError(f"item {item.id} was deleted on the master: choose --mine (create it "
                       "there again) or --theirs (delete it here)")


def _is_status(entry, item):
    """Whether a history entry is about the item status (older entries name it `status`)."""
    if entry.perm_name == LEGACY_STATUS:
        return not Field.select().where(Field.tracker == item.tracker_id,
                                        Field.perm_name == LEGACY_STATUS).exists()
    return entry.perm_name == STATUS_KEY


def restore(entry: ItemHistory, username: str = "") -> Item:
    """Put an overwritten value back into the local item (it then shows as a local change)."""
    item = Item.get_by_id(entry.item_id)  # as stored now (entry.item may be an older copy)
    is_status = _is_status(entry, item)
    with write_transaction():
        materialize(item)  # a synchronized item keeps the base it is leaving
        values, status = dict(item.values or {}), item.status
        current = status if is_status else values.get(entry.perm_name, "")
        if is_status:
            status = entry.old_value or "o"
        else:
            values[entry.perm_name] = entry.old_value or ""
        ItemHistory.create(item=item, side="local", action="restore", perm_name=entry.perm_name,
                           old_value=str(current), new_value=entry.old_value, username=username)
        Item.update(values=values, search_text=search_text(values), status=status,
                    hash=content_hash(values, status),
                    modified=next_modified(item.modified), modified_by=username).where(
            Item.id == item.id).execute()
        audit.record("item.restore", username, tracker=item.tracker_id, item_id=item.id,
                     perm=entry.perm_name)
    return Item.get_by_id(item.id)
