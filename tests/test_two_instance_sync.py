"""Two real tikisync-web processes: a master and a clone, each with its own database, talking
over real HTTP. The clone is driven through its command line (each call is a new process)."""
import json
import re
import socket
import threading
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.twoinstance
FAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))),
                Path("/usr/lib/faketime/libfaketime.so.1"))


SEED = """
from tikisync_web import accounts, items
from tikisync_web.models import Field, Tracker, User
tracker = Tracker.create(name="Bugs", description="Shared bugs")
Field.create(tracker=tracker, perm_name="title", name="Title", type="t", mandatory=True,
             position=10, flags={"isMain": "y", "isTblVisible": "y"})
Field.create(tracker=tracker, perm_name="amount", name="Amount", type="n", position=20)
Field.create(tracker=tracker, perm_name="priority", name="Priority", type="d", position=30,
             options={"options": ["low", "medium", "high"]})
for title, amount in (("First", "1"), ("Second", "2"), ("Third", "3")):
    items.create_item(tracker, {"title": title, "amount": amount, "priority": "low"})
user = (User.get_or_none(User.username == "syncer")
        or accounts.create_user("syncer", "editor", "syncer-password"))
ids = [i.id for i in tracker.items.order_by(items.Item.id)]
token = accounts.create_token(user, "clone")
print(json.dumps({"tracker": tracker.id, "token": token, "items": ids}))
"""


def seed_master(master):
    """A tracker of three items on the master, and an API token for the clone."""
    seeded = master.python(SEED)
    return seeded["tracker"], seeded["token"], seeded["items"]


def master_items(master, tracker):
    return {i["id"]: i for i in master.cli("items", tracker, as_json=True)}


def clone_items(clone, tracker):
    return {i["id"]: i for i in clone.cli("items", tracker, as_json=True)}


@pytest.fixture(scope="module")
def servers(module_instances):
    return module_instances("master"), module_instances("clone", start=False)


@pytest.fixture
def pair(servers):
    """A fresh tracker on the master, cloned and reloaded on the clone."""
    master, clone = servers
    tracker, token, remote_ids = seed_master(master)
    if clone.cli("dsn", "list", as_json=True) == []:
        clone.cli("dsn", "add", "master", master.url, "--method", "bearer", "--token", token,
                  "--allow-http")
    report = clone.cli("clone", master.url, tracker, as_json=True)
    local = report["tracker"]
    counts = clone.cli("reload", local, as_json=True)
    assert counts["added"] == 3
    copies = {i["remote_id"]: i for i in clone_items(clone, local).values()}
    return master, clone, tracker, local, [copies[r] for r in remote_ids]


def test_push_new_and_edit(pair):
    master, clone, tracker, local, (c1, c2, c3) = pair
    new = clone.cli("item", "add", local, "--set", "title=Made on the clone", "--set", "amount=9",
                    as_json=True)["id"]
    first = c1
    clone.cli("item", "set", first["id"], "--set", "amount=100")
    result = clone.cli("push", local, as_json=True)
    assert result["failed"] == []
    kinds = {p["id"]: p for p in result["pushed"]}
    assert kinds[new]["kind"] == "new" and kinds[first["id"]]["kind"] == "edit"
    assert kinds[first["id"]]["fields"] == ["amount"]
    on_master = master_items(master, tracker)
    made = [i for i in on_master.values() if i["fields"]["title"] == "Made on the clone"]
    assert len(made) == 1 and made[0]["id"] == kinds[new]["remote_id"]
    assert on_master[c1["remote_id"]]["fields"]["amount"] == "100"
    assert clone.cli("item", "show", new, as_json=True)["remote_id"] == made[0]["id"]
    status = clone.cli("status", local, as_json=True)
    assert (status["new"], status["modified"], status["conflicts"]) == ([], [], [])


@pytest.mark.parametrize("skew", ["-1h", "+1h"])
def test_same_field_conflict_whatever_the_clone_clock(pair, skew):
    if not FAKETIME.exists():
        pytest.fail("libfaketime is missing: `make test` installs it (apt package libfaketime)")
    master, clone, tracker, local, (c1, c2, c3) = pair
    shifted = {"LD_PRELOAD": str(FAKETIME), "FAKETIME": skew, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    second = c2
    clone.cli("item", "set", second["id"], "--set", "title=Clone's title", env=shifted)
    master.cli("item", "set", c2["remote_id"], "--set", "title=Master's title")
    status = clone.cli("status", local, as_json=True, env=shifted)
    assert status["conflicts"] == [second["id"]]
    result = clone.cli("push", local, as_json=True, env=shifted)
    assert {"id": second["id"], "reason": "conflict"} in result["skipped"]
    assert master_items(master, tracker)[c2["remote_id"]]["fields"]["title"] == "Master's title"


def test_different_fields_merge_without_conflict(pair):
    master, clone, tracker, local, (c1, c2, c3) = pair
    third = c3
    clone.cli("item", "set", third["id"], "--set", "amount=33")
    master.cli("item", "set", c3["remote_id"], "--set", "title=Renamed on master")
    status = clone.cli("status", local, as_json=True)
    assert status["conflicts"] == [] and status["modified"] == [third["id"]]
    clone.cli("push", local, as_json=True)
    on_master = master_items(master, tracker)[c3["remote_id"]]["fields"]
    assert (on_master["title"], on_master["amount"]) == ("Renamed on master", "33")
    here = clone.cli("item", "show", third["id"], as_json=True)["fields"]
    assert (here["title"], here["amount"]) == ("Renamed on master", "33")


def test_overwrite_and_take_theirs(pair):
    master, clone, tracker, local, (c1, c2, c3) = pair
    one, two = c1, c2
    clone.cli("item", "set", one["id"], "--set", "title=Mine 1")
    clone.cli("item", "set", two["id"], "--set", "title=Mine 2")
    master.cli("item", "set", c1["remote_id"], "--set", "title=Theirs 1")
    master.cli("item", "set", c2["remote_id"], "--set", "title=Theirs 2")
    assert sorted(clone.cli("status", local, as_json=True)["conflicts"]) == sorted(
        [one["id"], two["id"]])
    clone.cli("resolve", two["id"], "--theirs")
    pushed = clone.cli("push", local, "--force", "--item", one["id"], as_json=True)["pushed"]
    assert [p["id"] for p in pushed] == [one["id"]]
    on_master = master_items(master, tracker)
    assert on_master[c1["remote_id"]]["fields"]["title"] == "Mine 1"
    assert on_master[c2["remote_id"]]["fields"]["title"] == "Theirs 2"
    assert clone.cli("item", "show", two["id"], as_json=True)["fields"]["title"] == "Theirs 2"
    status = clone.cli("status", local, as_json=True)
    assert status["conflicts"] == [] and status["modified"] == []


def is_insert(request_head):
    """True for the request line of an item insert, in either generation."""
    line = request_head.split(b"\r\n", 1)[0].decode("latin-1")
    method, target = (line.split(" ") + ["", ""])[:2]
    query = parse_qs(urlsplit(target).query)
    route = unquote(query.get("route", [""])[0]).strip("/")
    if method != "POST":
        return False
    return bool(re.fullmatch(r"trackers/\d+/items", route)) or \
        query.get("action", [""])[0] == "insert_item"


class DropFirstInsertReply:
    """A loopback TCP proxy that forwards everything but swallows the master's answer to the
    first item insert, then closes that connection: the insert happened, the reply is lost."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dropped = 0
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self.pipe, args=(client,), daemon=True).start()

    def pipe(self, client):
        upstream = socket.create_connection(self.target, timeout=10)
        state = {"drop": False}

        def forward_requests():
            try:
                while (data := client.recv(65536)):
                    if self.dropped == 0 and is_insert(data):
                        state["drop"] = True
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward_requests, daemon=True).start()
        try:
            while (data := upstream.recv(65536)):
                if state["drop"]:
                    self.dropped += 1
                    break
                client.sendall(data)
        except OSError:
            pass
        for sock in (client, upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the other thread's recv; close alone won't
                sock.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.listener.close()


def test_lost_insert_reply_creates_the_item_exactly_once(servers):
    master, clone = servers
    tracker, token, _ = seed_master(master)
    proxy = DropFirstInsertReply(master.port)
    try:
        url = f"http://127.0.0.1:{proxy.port}"
        clone.cli("dsn", "add", "via-proxy", url, "--method", "bearer", "--token", token,
                  "--allow-http")
        local = clone.cli("clone", url, tracker, as_json=True)["tracker"]
        clone.cli("reload", local, as_json=True)
        new = clone.cli("item", "add", local, "--set", "title=Exactly once", as_json=True)["id"]
        done = clone.cli("push", local, "--json", check=False)
        result = json.loads(done.stdout)  # printed even when an item failed (exit 1)
        assert proxy.dropped == 1 and done.returncode == (1 if result["failed"] else 0)
        if result["failed"]:  # the reply was lost and the item not found yet: retry
            result = clone.cli("push", local, as_json=True)
        assert [p["id"] for p in result["pushed"]] == [new]
    finally:
        proxy.close()
    made = [i for i in master_items(master, tracker).values()
            if i["fields"]["title"] == "Exactly once"]
    assert len(made) == 1
    assert clone.cli("item", "show", new, as_json=True)["remote_id"] == made[0]["id"]


def test_master_validation_failure_and_failure_mid_batch(pair):
    master, clone, tracker, local, (c1, c2, c3) = pair
    # The master's field changes after the clone: "high" is no longer a choice there.
    web = master.login()
    fields_page = web.get(master.url + f"/trackers/{tracker}/fields")
    assert fields_page.status_code == 200
    edit_links = [a["href"] for a in BeautifulSoup(fields_page.text, "html.parser").find_all("a")
                  if a.get("href", "").endswith("/edit") and "/fields/" in a["href"]]
    priority_edit = next(h for h in edit_links
                         if "priority" in web.get(master.url + h).text)
    form = BeautifulSoup(web.get(master.url + priority_edit).text, "html.parser")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input")
            if i.get("name") and (i.get("type") != "checkbox" or i.has_attr("checked"))}
    data.update({"name": "Priority", "perm_name": "priority", "type": "d",
                 "choices": "low\nmedium", "date_mode": "dt"})
    answer = web.post(master.url + priority_edit, data=data, allow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]
    ok1 = clone.cli("item", "add", local, "--set", "title=ok one", as_json=True)["id"]
    bad = clone.cli("item", "add", local, "--set", "title=bad", "--set", "priority=high",
                    as_json=True)["id"]
    ok2 = clone.cli("item", "add", local, "--set", "title=ok two", as_json=True)["id"]
    done = clone.cli("push", local, "--new", "--json", check=False)
    assert done.returncode == 1 and done.stderr.count("\n") == 1  # part failed: exit 1...
    result = json.loads(done.stdout)  # ...with the JSON all the same
    assert [f["id"] for f in result["failed"]] == [bad], result
    assert sorted(p["id"] for p in result["pushed"]) == sorted([ok1, ok2])
    kept = clone.cli("item", "show", bad, as_json=True)
    assert kept["remote_id"] is None and kept["fields"]["priority"] == "high"
    titles = [i["fields"]["title"] for i in master_items(master, tracker).values()]
    assert "bad" not in titles and {"ok one", "ok two"} <= set(titles)
