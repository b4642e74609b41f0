"""The benchmark tracker: 10 fields of common Tiki types and deterministic item values.

Item n (0-based) always has the same values, so the parent process knows what the master
holds without asking it (Tiki's local copy for the push baseline is built from this).
About 330 bytes of JSON per item.
"""
import random

# perm, label, Tiki type code, options
FIELDS = [
    ("title", "Title", "t", {}),
    ("description", "Description", "a", {}),
    ("amount", "Amount", "n", {}),
    ("priority", "Priority", "d", {"options": ["1=Low", "2=High", "3=Urgent"]}),
    ("due", "Due", "j", {"datetime": "d"}),
    ("done", "Done", "c", {}),
    ("contact", "Contact", "m", {}),
    ("homepage", "Homepage", "L", {}),
    ("colours", "Colours", "M", {"options": ["red", "green", "blue"]}),
    ("notes", "Notes", "t", {}),
]
PERMS = [f[0] for f in FIELDS]

_WORDS = ("crash save open close print export import login page list search sort filter "
          "report user admin tracker field item value date number text label error warning "
          "slow fast broken fixed review pending network disk memory cache index").split()


def values(n):
    """The raw values (Tiki encoding) of item n."""
    rnd = random.Random(n)
    words = lambda k: " ".join(rnd.choice(_WORDS) for _ in range(k))  # noqa: E731
    return {
        "title": f"Item {n:06d}: {words(4)}",
        "description": words(18).capitalize() + ".",
        "amount": str(rnd.randrange(100000)),
        "priority": str(rnd.randrange(1, 4)),
        "due": str(1_700_000_000 + 86400 * rnd.randrange(1000)),
        "done": rnd.choice("yn"),
        "contact": f"user{n % 500}@example.org",
        "homepage": f"https://example.org/items/{n}",
        "colours": ",".join(c for c in ("red", "green", "blue") if rnd.random() < 0.5),
        "notes": words(3),
    }


def status(n):
    return "oopc"[n % 4]


# --- the edits of the sync benchmark -----------------------------------------------------------
# Items are numbered by position n in the master's tracker (remote id = first id + n).

def ours(k):
    """The k-th item edited on the clone and pushed by our code."""
    return 10 * k


def tikis(k):
    """The k-th item edited in Tiki's local copy and pushed by Tiki's algorithm."""
    return 10 * k + 3


def local_edit(n, k):
    """What a user changes on the clone (two fields)."""
    return {"amount": str(900000 + k), "notes": f"edited here {k}"}


def master_edits(edits):
    """[(n, {perm: value})] of `edits` master-side changes: on our items, 10% same field
    differently (conflicts) and 10% another field (merged); on Tiki's items the same; the
    rest on items neither side edits."""
    tenth = edits // 10
    out = []
    for k in range(tenth):
        out.append((ours(k), {"amount": str(777000 + k)}))  # conflict with local_edit
    for k in range(tenth, 2 * tenth):
        out.append((ours(k), {"priority": "3" if values(ours(k))["priority"] != "3" else "1"}))
    for k in range(tenth):
        out.append((tikis(k), {"amount": str(777000 + k)}))
    for k in range(tenth, 2 * tenth):
        out.append((tikis(k), {"priority": "3" if values(tikis(k))["priority"] != "3" else "1"}))
    k = 0
    while len(out) < edits:
        out.append((10 * k + 5, {"title": f"changed on the master {k}"}))
        k += 1
    return out
