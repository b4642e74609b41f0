"""The built-in demo: `tikisync demo-seed` fills an empty tikisync-web with two trackers that use
every synchronizable field type and a few hundred items; a second tikisync-web, given the
printed token as a credential, lists both trackers, clones them without skipping a field and
reloads every item. A database that holds trackers is refused, nothing changed."""
from tikisync_web.fields import SYNCHRONIZABLE


def test_a_clone_of_the_demo_master_takes_every_field_and_item(instances):
    demo = instances("demo")
    seeded = demo.cli("demo-seed", as_json=True)
    names = {t["name"]: t for t in seeded["trackers"]}
    assert set(names) == {"Equipment", "Help desk"}
    assert names["Help desk"]["items"] == 300 and names["Equipment"]["items"] == 60
    again = demo.cli("demo-seed", check=False)
    assert again.returncode == 1 and "fills an empty one" in again.stderr

    main = instances("main")
    main.cli("dsn", "add", "demo", demo.url, "--method", "bearer", "--token", seeded["token"],
             "--allow-http")
    listed = {t["name"]: t["id"] for t in main.cli("remote", "trackers", demo.url, as_json=True)}
    assert set(listed) == {"Equipment", "Help desk"}
    equipment = main.cli("clone", demo.url, listed["Equipment"], as_json=True)
    desk = main.cli("clone", demo.url, listed["Help desk"], as_json=True)
    assert equipment["skipped"] == [] and desk["skipped"] == []
    # Every synchronizable type is on the help desk (u, e and r arrive transformed).
    kept_types = {field["type"] for field in demo.python(f"""
from tikisync_web.models import Field
print(json.dumps([{{"type": f.type}} for f in Field.select().where(
    Field.tracker == {names["Help desk"]["id"]})]))
""")}
    assert SYNCHRONIZABLE - kept_types == set()
    assert {t["perm"] for t in desk["transformed"]} == {"assignee", "team", "asset"}
    for report, count in ((equipment, 60), (desk, 300)):
        loaded = main.cli("reload", report["tracker"], as_json=True)
        assert loaded["fetched"] == count and loaded["items"] == count
