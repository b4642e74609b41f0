"""The pieces the master tests stand on: PHP's form encoding and the demo tracker."""
from tests.support.master_api import DEMO_FIELDS, DEMO_ITEMS, add_items, make_demo, php_pairs


def test_php_pairs_follow_http_build_query():
    params = {"trackerId": 5, "fields": {"title": "A & B", "tags": ["x", "y"]},
              "groupIds": [3], "skip": None, "flag": True}
    assert php_pairs(params) == [
        ("trackerId", "5"), ("fields[title]", "A & B"), ("fields[tags][0]", "x"),
        ("fields[tags][1]", "y"), ("groupIds[0]", "3"), ("flag", "1")]


def test_demo_tracker_holds_every_kind_of_field(app, db, users):
    tracker = make_demo()
    add_items(tracker, DEMO_ITEMS)
    assert [f.perm_name for f in tracker.ordered_fields()] == [f[0] for f in DEMO_FIELDS]
    assert tracker.items.count() == 3
