"""The built-in demo (`tikisync demo-seed`): a small IT department's two trackers, with every
synchronizable field type and a few hundred items, so a newcomer has a master to clone from.

`make run` starts a second tikisync-web on DEMO_PORT with its own database, seeds it with this
and gives the main app a credential for it (README, quick start). The items are the same on
every run (a seeded random generator), so the README's walk-through can name them.
"""
import random
import time

from . import accounts
from . import items as item_svc
from .db import write_transaction
from .models import Field, Item, Tracker, User

DEMO_USER = "demo"
# The demo master runs on loopback for one person trying things out; its accounts share one
# password, written in the README, so the walk-through can sign in there to make a conflict.
DEMO_PASSWORD = "demo-master"
USERS = [("amelia", "editor"), ("bruno", "editor"), ("chen", "editor"), ("dana", "viewer")]
EQUIPMENT_COUNT = 60
REQUEST_COUNT = 300
FLAGS = {"isTblVisible": "y", "isSearchable": "y", "isPublic": "y", "isHidden": "n"}

EQUIPMENT_FIELDS = [
    # perm, label, type, options, mandatory, shown in the list
    ("name", "Name", "t", {}, True, True),
    ("kind", "Kind", "d", {"options": ["laptop=Laptop", "desktop=Desktop", "printer=Printer",
                                       "phone=Phone", "screen=Screen"]}, True, True),
    ("serial", "Serial number", "t", {}, False, True),
    ("bought", "Bought on", "j", {"datetime": "d"}, False, True),
    ("price", "Price", "b", {}, False, True),
    ("in_use", "In use", "c", {}, False, True),
    ("site", "Site", "G", {}, False, False),
    ("notes", "Notes", "a", {}, False, False),
]


def request_fields(equipment):
    """The help desk's fields: every synchronizable type (u, e and r are transformed on
    clone), the asset field linking to the equipment tracker."""
    name = Field.get(Field.tracker == equipment, Field.perm_name == "name")
    return [
        ("request", "Request", "h", {}, False, False),
        ("title", "Title", "t", {}, True, True),
        ("description", "Description", "a", {}, False, False),
        ("priority", "Priority", "d", {"options": ["1=Low", "2=Medium", "3=High", "4=Urgent"]},
         True, True),
        ("channel", "Channel", "R", {"options": ["email=E-mail", "phone=Phone",
                                                 "desk=Walk-in"]}, False, False),
        ("area", "Area", "D", {"options": ["Network", "Printing", "Accounts", "Hardware"]},
         False, True),
        ("labels", "Labels", "M", {"options": ["vip=VIP", "recurring=Recurring",
                                               "remote=Remote site"]}, False, False),
        ("assignee", "Assignee", "u", {"multiple": 0}, False, True),
        ("team", "Team", "e", {"options": ["21=Service desk", "22=Field support",
                                           "23=Network team"], "inputtype": "d"}, False, True),
        ("asset", "Asset", "r", {"trackerId": equipment.id, "fieldId": name.id}, False, False),
        ("details", "Details", "h", {}, False, False),
        ("reporter", "Reporter e-mail", "m", {}, False, False),
        ("reference", "Reference", "L", {}, False, False),
        ("opened", "Opened", "f", {"datetime": "dt"}, False, False),
        ("due", "Due", "j", {"datetime": "d"}, False, True),
        ("hours", "Hours spent", "n", {"decimals": 1}, False, False),
        ("cost", "Cost", "b", {}, False, False),
        ("confirmed", "Confirmed", "c", {}, False, False),
        ("country", "Country", "y", {}, False, False),
        ("ip", "IP address", "I", {}, False, False),
        ("duration", "Duration", "DUR", {}, False, False),
        ("location", "Location", "G", {}, False, False),
        ("tags", "Tags", "F", {}, False, False),
        ("language", "Language", "LANG", {}, False, False),
        ("wiki", "Wiki page", "wiki", {}, False, False),
        ("formula", "Formula", "math", {}, False, False),
        ("video", "Video", "kaltura", {}, False, False),
        ("event", "Calendar event", "CAL", {}, False, False),
        ("area_map", "Area map", "GF", {}, False, False),
        ("advice", "Advice", "S", {}, False, False),
    ]


SUBJECTS = ["Printer on floor {n} jams", "VPN drops every hour", "New starter needs a laptop",
            "Password reset for {name}", "Screen flickers in room {n}", "Wi-Fi slow in the canteen",
            "Shared drive full", "Phone has no dial tone", "Projector cable missing",
            "Mailbox quota reached"]
SITES = ["52.5200,13.4050,12", "48.8566,2.3522,12", "51.5072,-0.1276,11"]
COUNTRIES = ["Germany", "France", "United_Kingdom", "Spain"]


class AlreadySeeded(RuntimeError):
    """The database holds trackers already: the demo only fills an empty one."""


def seed(requests=REQUEST_COUNT, equipment=EQUIPMENT_COUNT, now=None):
    """Fill an empty database with the demo: its users (and the `demo` admin, who owns the API
    token the main app clones with), the equipment tracker and the help desk. Returns
    {"trackers": [{"id", "name", "items"}], "username", "password", "token"}."""
    if Tracker.select().exists():
        raise AlreadySeeded("the database holds trackers already: demo-seed fills an empty one")
    rng = random.Random(15)
    now = int(now or time.time())
    for username, role in [(DEMO_USER, "admin"), *USERS]:  # hashing is slow: first
        if not User.select().where(User.username == username).exists():
            accounts.create_user(username, role, DEMO_PASSWORD)
    admin = User.get(User.username == DEMO_USER)
    with write_transaction():
        kit = _tracker("Equipment", "Laptops, printers and phones the help desk looks after.",
                       EQUIPMENT_FIELDS)
        assets = [_create(kit, _equipment(rng, n, now)) for n in range(equipment)]
        desk = _tracker("Help desk", "Requests to the IT department, from report to fix.",
                        request_fields(kit))
        for n in range(requests):
            status, values = _request(rng, n, now, assets)
            _create(desk, values, status)
        token = accounts.create_token(admin, "demo master")
    return {"trackers": [{"id": t.id, "name": t.name,
                          "items": Item.select().where(Item.tracker == t).count()}
                         for t in (kit, desk)],
            "username": DEMO_USER, "password": DEMO_PASSWORD, "token": token}


def _tracker(name, description, fields):
    tracker = Tracker.create(name=name, description=description)
    for position, (perm, label, code, options, mandatory, listed) in enumerate(fields, 1):
        Field.create(tracker=tracker, perm_name=perm, name=label, type=code, options=options,
                     mandatory=mandatory, position=position * 10,
                     flags={**FLAGS, "isMain": "y" if position == 1 or perm == "title" else "n",
                            "isTblVisible": "y" if listed else "n"})
    return tracker


def _create(tracker, values, status="o"):
    return item_svc.create_item(tracker, values, status=status, username=DEMO_USER).id


def _equipment(rng, n, now):
    kind = rng.choice(["laptop", "desktop", "printer", "phone", "screen"])
    return {"name": f"{kind.capitalize()} {n + 1:03d}", "kind": kind,
            "serial": f"SN-{rng.randrange(10 ** 7):07d}",
            "bought": str(now - rng.randrange(30, 1500) * 86400),
            "price": f"{rng.randrange(90, 2400)}.00EUR", "in_use": rng.choice("yyyn"),
            "site": rng.choice(SITES),
            "notes": "Bought with the spring order.\nWarranty: 3 years." if n % 7 == 0 else ""}


def _request(rng, n, now, assets):
    opened = now - rng.randrange(1, 120) * 86400 - rng.randrange(86400)
    subject = rng.choice(SUBJECTS).format(n=rng.randrange(1, 6),
                                          name=rng.choice(["Amelia", "Bruno", "Chen"]))
    values = {
        "title": f"{subject} (#{n + 1})", "priority": rng.choice("1122234"),
        "description": f"Reported by phone.\nSteps so far: restarted, checked cables.\n"
                       f"Ticket {n + 1}.",
        "channel": rng.choice(["email", "phone", "desk"]),
        "area": rng.choice(["Network", "Printing", "Accounts", "Hardware", "Furniture"]),
        "labels": ",".join(sorted(rng.sample(["vip", "recurring", "remote"],
                                             rng.randrange(0, 3)))),
        "assignee": rng.choice(["amelia", "bruno", "chen", ""]),
        "team": rng.choice(["21", "22", "23"]),
        "asset": str(rng.choice(assets)) if rng.random() < 0.6 else "",
        "reporter": f"user{rng.randrange(1, 80)}@example.org",
        "reference": f"https://intranet.example.org/kb/{rng.randrange(100, 999)}",
        "opened": str(opened), "due": str(opened + rng.randrange(2, 30) * 86400),
        "hours": f"{rng.randrange(0, 40) / 2:.1f}", "cost": f"{rng.randrange(0, 500)}.00EUR",
        "confirmed": rng.choice("yn"), "country": rng.choice(COUNTRIES),
        "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "duration": f"{rng.randrange(1, 9)}h", "location": rng.choice(SITES),
        "tags": rng.choice(["hardware", "network printing", "accounts", ""]),
        "language": rng.choice(["en", "de", "fr"]),
    }
    return rng.choice("oooppc"), values
