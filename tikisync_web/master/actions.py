"""What we serve: Gen A's controller/action pairs and Gen B's route table (§2), one handler each."""
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import directory, tracker_items, trackers, updates
from .errors import not_allowed, not_found


@dataclass(frozen=True)
class Action:
    handler: Callable
    role: str | None  # the least role allowed; None: anyone
    write: bool = False  # writes are POST only


ACTIONS = {
    ("tracker", "list_trackers"): Action(trackers.list_trackers, "viewer"),
    ("tracker", "export_fields"): Action(trackers.export_fields, "viewer"),
    ("tracker", "edit_field"): Action(trackers.edit_field, "viewer"),
    ("tracker", "list_items"): Action(tracker_items.list_items, "viewer"),
    ("tracker", "insert_item"): Action(tracker_items.insert_item, "editor", write=True),
    ("tracker", "update_item"): Action(tracker_items.update_item, "editor", write=True),
    # Ours only, announced by route=version: many updates in one request (updates.py).
    ("tracker", "update_items"): Action(updates.update_items, "editor", write=True),
    ("user", "list_users"): Action(directory.list_users, "viewer"),
    ("category", "list_categories"): Action(directory.list_categories, "viewer"),
    ("translation", "manage"): Action(directory.translation_manage, "viewer"),
}
CONTROLLERS = {controller for controller, _ in ACTIONS}
VERSION = Action(directory.version, None)


def gen_a_action(controller, action):
    """The Action for tiki-ajax_services.php, or 404 worded as Tiki's broker words it."""
    if controller not in CONTROLLERS:
        raise not_found(f"Controller not found ({controller})")
    found = ACTIONS.get((controller, action))
    if found is None:
        raise not_found(f"Action not found ({action} in {controller})")
    return found


@dataclass(frozen=True)
class Route:
    methods: tuple
    pattern: str
    action: Action
    defaults: dict = field(default_factory=dict)

    @property
    def regex(self):
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern) + "$")


# Tiki's ApiBridge::prepareRoutes, in its order (export before the {fieldId} route).
ROUTES = [
    Route(("GET",), "trackers", ACTIONS["tracker", "list_trackers"]),
    Route(("GET",), "trackers/{trackerId}/fields/export", ACTIONS["tracker", "export_fields"]),
    Route(("GET",), "trackers/{trackerId}", ACTIONS["tracker", "list_items"],
          {"offset": "-1", "maxRecords": "-1"}),
    Route(("POST",), "trackers/{trackerId}/items", ACTIONS["tracker", "insert_item"]),
    Route(("POST",), "trackers/{trackerId}/items/{itemId}", ACTIONS["tracker", "update_item"]),
    Route(("POST",), "trackers/{trackerId}/updates", ACTIONS["tracker", "update_items"]),
    # Tiki only routes POST here; we also read with GET, since we never change a field.
    Route(("GET", "POST"), "trackers/{trackerId}/fields/{fieldId}",
          ACTIONS["tracker", "edit_field"]),
    Route(("GET",), "users", ACTIONS["user", "list_users"], {"offset": "0", "maxRecords": "-1"}),
    Route(("GET",), "categories", ACTIONS["category", "list_categories"]),
    Route(("GET",), "translations/{type}/{source}", ACTIONS["translation", "manage"]),
    Route(("GET",), "version", VERSION),
]
_COMPILED = [(route, route.regex) for route in ROUTES]


def gen_b_route(path, method):
    """(Route, placeholder values) for a tiki-api.php route; 404 or 405 when none fits."""
    path = path.strip("/")
    method = "GET" if method == "HEAD" else method
    allowed = []
    for route, regex in _COMPILED:
        match = regex.match(path)
        if match is None:
            continue
        if method in route.methods:
            return route, match.groupdict()
        allowed.extend(route.methods)
    if allowed:
        raise not_allowed(method, allowed)
    raise not_found(f"Route not found ({path[:100]})")
