"""Where an item's base lives (DESIGN §3, "Baseline").

A synchronized item that nobody changed here is its own base: Item.base_hash equals
Item.hash and no Baseline row is needed. Before such an item first moves away from its base
(a local edit, a history restore), `materialize` writes the row with the values it is about
to leave; from then on the row is the base. Item.base_hash always holds the base's hash, so
"changed here" is `hash != base_hash`, without reading any values.
"""
from ..models import Baseline


def materialize(item):
    """The item's Baseline row, written first when the item is its own base; None for an item
    that was never synchronized."""
    if item.remote_id is None or item.base_hash is None:
        return None
    row = Baseline.get_or_none(Baseline.item == item.id)
    if row is None:
        row = Baseline.create(item=item.id, values=dict(item.values or {}), status=item.status,
                              hash=item.base_hash, remote_modified=item.remote_modified)
    return row


def base_of(item, row):
    """(values, status) of the base: the row's, or the item's own when there is no row."""
    if row is not None:
        return row.values or {}, row.status
    return item.values or {}, item.status
