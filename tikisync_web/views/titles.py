"""An item's title as the sync tab, the push preview and the three-way view show it."""


def item_title_of(tracker):
    """A function giving an item's title: its value of the tracker's main field (isMain, else
    the first field), or "#id" when that is empty or the tracker has no fields."""
    fields = tracker.ordered_fields()
    main = next((f for f in fields if f.flag("isMain")), None) or next(iter(fields), None)
    if main is None:
        return lambda item: f"#{item.id}"
    return lambda item: str((item.values or {}).get(main.perm_name, "")) or f"#{item.id}"
