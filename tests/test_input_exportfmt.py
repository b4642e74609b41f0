"""Bad input to the field-export parser (issue 12, "What to build": bad input), property-based:
remote/exportfmt.py reads whatever a master sends as `export`, and a clone is built from it.

- Any text parses without an exception into well-formed field definitions (ints an id column
  holds, a non-empty permName, options as a dict, flags as text).
- What we write reads back as written, whatever the names and descriptions hold (newlines,
  backslashes, `=`, `[FIELD1]`, `#`, any script).
- A clone from a hostile export, over real loopback HTTP: either refused with a clear error
  and nothing created, or a tracker whose every field has a usable permName; never a crash.
"""
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.properties import examples, hostile, tallied
from tests.support.sync import client as remote_client
from tests.support.sync import connect
from tikisync_web import fields as ft
from tikisync_web.models import MAX_ID, Field, Tracker
from tikisync_web.remote import exportfmt
from tikisync_web.remote.errors import RemoteError
from tikisync_web.sync import clone

pytestmark = pytest.mark.reliability

KEYS = list(exportfmt.KEYS) + ["sMandatory", "odd key", "x"]
line = st.one_of(
    st.builds(lambda k, sep, v: f"{k}{sep}{v}", st.sampled_from(KEYS),
              st.sampled_from([" = ", "=", " : ", ":", " =", "\t=\t"]), hostile),
    st.builds(lambda n: f"[FIELD{n}]", st.one_of(st.integers(-5, 10**25), hostile)),
    st.sampled_from([exportfmt.ESCAPE_MARK, "# comment", "", "[", "]", "[field1]", "\r"]),
    hostile)
export_text = st.lists(line, max_size=40).map("\n".join)


def well_formed(parsed):
    for field in parsed:
        assert isinstance(field["fieldId"], int) and -MAX_ID - 1 <= field["fieldId"] <= MAX_ID
        assert isinstance(field["position"], int) and -MAX_ID - 1 <= field["position"] <= MAX_ID
        assert isinstance(field["permName"], str) and field["permName"]
        assert isinstance(field["name"], str) and isinstance(field["type"], str)
        assert isinstance(field["options"], dict) and isinstance(field["isMandatory"], bool)
        assert all(isinstance(v, str) for v in field["flags"].values())


def test_any_text_parses_into_well_formed_fields():
    with tallied("input", "field export: any text parses") as tally:
        @examples(150, 3000)
        @given(export_text)
        @example("[FIELD1]\npermName = x\nfieldId = " + "9" * 4300 + "\nposition = " + "9" * 30)
        @example("[FIELD" + "9" * 5000 + "]\npermName = y\noptions = " + "[" * 5000)
        def run(text):
            tally["cases"] += 1
            try:
                parsed = exportfmt.parse(text)
            except Exception:
                tally["errors_500"] += 1
                raise
            well_formed(parsed)

        run()


printable = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40)
field_rows = st.lists(st.fixed_dictionaries({
    "fieldId": st.integers(1, MAX_ID),
    "name": st.one_of(printable, hostile).map(str.strip),
    "permName": st.from_regex(ft.PERM_NAME, fullmatch=True),
    "position": st.integers(0, 10**6),
    "type": st.sampled_from(ft.LOCAL_TYPES),
    "options": st.dictionaries(st.text(max_size=5), st.integers() | printable,
                               max_size=3).map(json.dumps),
    "isMandatory": st.sampled_from(["y", "n"]),
    "description": st.one_of(hostile, st.text(max_size=80)).map(str.strip),
}), max_size=6, unique_by=lambda row: row["fieldId"])


def test_what_we_write_reads_back_as_written():
    with tallied("input", "field export: write then read") as tally:
        @examples(60, 1500)
        @given(field_rows)
        def run(rows):
            tally["cases"] += 1
            parsed = exportfmt.parse(exportfmt.write(rows))
            expected = [(r["fieldId"], r["permName"], r["position"], r["type"],
                         r["isMandatory"] == "y", r["description"], json.loads(r["options"]),
                         r["name"] or r["permName"]) for r in rows]
            got = [(f["fieldId"], f["permName"], f["position"], f["type"], f["isMandatory"],
                    f["description"], f["options"], f["name"]) for f in parsed]
            assert got == expected

        run()


def test_a_clone_from_a_hostile_export_is_refused_or_clean(app, db, make_master):
    master = make_master(items=[])
    connect(app, master)
    exports = {"text": ""}
    master.export_fields = lambda user, params: {"title": "Export Fields", "trackerId": 1,
                                                 "fields": [], "export": exports["text"]}
    with tallied("input", "field export: clone over loopback HTTP",
                 "lost = rows left by a refused clone") as tally:
        @examples(12, 200)
        @given(export_text)
        @example("[FIELD1]\nfieldId = " + "9" * 30 + "\npermName = title\ntype = t\n"
                 "position = -" + "9" * 40)
        @example("[FIELD1]\nfieldId = 1\npermName = my-field\ntype = t\n[FIELD2]\nfieldId = 2\n"
                 "permName = title\ntype = t")
        def run(text):
            tally["cases"] += 1
            exports["text"] = text
            before = (Tracker.select().count(), Field.select().count())
            try:
                with remote_client(app, master.url) as c:
                    plan = clone.plan_clone(c, 1)
            except (clone.CloneError, RemoteError) as exc:
                assert str(exc) and (Tracker.select().count(), Field.select().count()) == before
                tally["changed"] += (Tracker.select().count(), Field.select().count()) != before
                return
            tracker = clone.create_clone(plan, master.url, protocol="B")
            made = list(Field.select().where(Field.tracker == tracker))
            assert all(ft.PERM_NAME.match(f.perm_name) for f in made)
            assert all(f.remote_field_id is None or 0 <= f.remote_field_id <= MAX_ID
                       for f in made)
            assert {f.perm_name for f in made} == {
                f.perm for f in plan.fields if f.action != "skipped"}
            tracker.delete_instance(recursive=True)

        try:
            run()
        except Exception:
            tally["errors_500"] += 1
            raise
