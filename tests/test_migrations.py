"""Versioned migrations: an old database upgrades in place with its data, `init` is idempotent,
and a new database starts at the latest version with the same schema an upgrade reaches."""
from tests.support.apps import PASSWORD, make_app
from tests.support.pages import soup, url
from tikisync_web import accounts, dbobjects, migrations
from tikisync_web import db as tdb
from tikisync_web import items as item_svc
from tikisync_web import models as m
from tikisync_web.db import database


def _schema():
    """{table: (columns, unique column sets)} of every tikisync table, as the database has it."""
    result = {}
    for table in sorted(t for t in database.get_tables() if t.startswith("tikisync_")
                        and not t.startswith(dbobjects.FTS_TABLE)):  # SQLite's full-text
        columns = {c.name for c in database.get_columns(table)}
        unique = {tuple(sorted(i.columns)) for i in database.get_indexes(table) if i.unique}
        result[table] = (columns, unique)
    return result


def _expected_schema():
    """What the models declare: every column, and every unique index or UNIQUE column."""
    result = {}
    for model in m.ALL_MODELS + [migrations.SchemaVersion]:
        meta = model._meta
        columns = {f.column_name for f in meta.sorted_fields}
        unique = {(f.column_name,) for f in meta.sorted_fields if f.unique}
        for fields, is_unique in meta.indexes:
            if is_unique:
                unique.add(tuple(sorted(meta.fields[f].column_name if f in meta.fields else f
                                        for f in fields)))
        result[meta.table_name] = (columns, unique)
    return result


def _without_primary_keys(schema):
    # SQLite and MariaDB report the primary key as a unique index, PostgreSQL does not.
    pks = {(f.column_name,) for model in m.ALL_MODELS + [migrations.SchemaVersion]
           for f in model._meta.sorted_fields if f.primary_key}
    return {t: (cols, {u for u in unique if u not in pks}) for t, (cols, unique) in schema.items()}


def _version_one_database(db_url):
    """A database as release 1 left it: only migration 1 applied, with a user, tracker and items."""
    tdb.bind(db_url)
    with database.connection_context():
        assert migrations.upgrade(upto=1) == [migrations.MIGRATIONS[0][1]]
        assert migrations.current_version() == 1
        # Migration 2 added the clone columns: version 1 has none of them.
        columns = database.get_columns(m.Tracker._meta.table_name)
        assert "source_url" not in {c.name for c in columns}
        accounts.create_user("olduser", "admin", PASSWORD)
        # As release 1 wrote it: today's model would also fill columns added since.
        tracker_id = migrations._TrackerV1.insert(name="Legacy bugs",
                                                  description="from release 1").execute()
        m.Field.create(tracker=tracker_id, perm_name="title", name="Title", type="t", position=10)
        m.Field.create(tracker=tracker_id, perm_name="due", name="Due", type="j", position=20,
                       options={"datetime": "d"})
        for n in range(3):
            m.Item.create(tracker=tracker_id, values={"title": f"old bug {n}", "due": "1700006400"},
                          search_text=f"old bug {n}")
        m.Setting.create(key="tracker_remote_sync", value="n")
    database.close()
    return tracker_id


def test_version_one_database_upgrades_in_place_with_its_data(blank_db_url, tmp_path):
    db_url = blank_db_url
    tracker_id = _version_one_database(db_url)

    app = make_app(db_url, tmp_path)  # TIKISYNC_AUTO_UPGRADE: the app upgrades at start
    try:
        with database.connection_context():
            assert migrations.current_version() == migrations.LATEST
            assert _without_primary_keys(_schema()) == _without_primary_keys(_expected_schema())
            assert dbobjects.positions_tracked(database)  # migration 17's triggers
            assert m.Item.select().where(m.Item.tracker == tracker_id).count() == 3
            # The items already there are in the full-text index (SQLite) at once.
            old_tracker = m.Tracker.get_by_id(tracker_id)
            rows, total = item_svc.list_items(old_tracker, old_tracker.ordered_fields(),
                                              q="bug 1")
            assert total == 1 and rows[0].values["title"] == "old bug 1"
            tracker = m.Tracker.get_by_id(tracker_id)
            assert (tracker.name, tracker.description, tracker.source_url) == (
                "Legacy bugs", "from release 1", None)
            # The new columns are usable on the old rows.
            m.Tracker.update(source_url="https://tiki.example/", remote_tracker_id=7).where(
                m.Tracker.id == tracker_id).execute()

        # What the old user sees: they can still sign in, and their items are all there.
        client = app.test_client()
        response = client.post(url(app, "tikisync.login"),
                               data={"username": "olduser", "password": PASSWORD})
        assert response.status_code == 303
        page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker_id)))
        cells = [td.get_text(strip=True) for td in page.select("#item-table tbody td")]
        assert {"old bug 0", "old bug 1", "old bug 2"} <= set(cells)
        assert "2023-11-15" in cells  # the date value, shown as a date
        settings_page = soup(client.get(url(app, "tikisync.settings")))
        assert not settings_page.find("input", {"name": "remote_sync"}).has_attr("checked")
    finally:
        database.close()


def test_init_twice_is_idempotent(app, runner):
    with database.connection_context():
        before_tables = _schema()
        before_versions = [v.version for v in migrations.SchemaVersion.select()]
    first = runner.invoke(args=["tikisync", "init"])
    assert first.exit_code == 0, first.output
    assert "up to date" in first.output  # the app already created the schema at start-up
    runner.invoke(args=["tikisync", "user", "add", "ann", "--role", "editor",
                        "--password", PASSWORD])
    second = runner.invoke(args=["tikisync", "init"])
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output
    with database.connection_context():
        assert _schema() == before_tables
        assert [u.username for u in m.User.select()] == ["ann"]
        versions = [v.version for v in migrations.SchemaVersion.select()]
        assert versions == before_versions and max(versions) == migrations.LATEST


def test_init_creates_a_fresh_database_at_the_latest_version(blank_db_url, tmp_path):
    db_url = blank_db_url
    app = make_app(db_url, tmp_path, TIKISYNC_AUTO_UPGRADE=False)
    try:
        with database.connection_context():
            assert migrations.current_version() is None
        result = app.test_cli_runner().invoke(args=["tikisync", "init"])
        assert result.exit_code == 0, result.output
        assert "create schema" in result.output
        with database.connection_context():
            assert migrations.current_version() == migrations.LATEST
            assert _without_primary_keys(_schema()) == _without_primary_keys(_expected_schema())
            assert dbobjects.positions_tracked(database)  # a new schema has them too
    finally:
        database.close()


def test_commands_refuse_an_old_schema_until_init(blank_db_url, tmp_path):
    db_url = blank_db_url
    _version_one_database(db_url)
    app = make_app(db_url, tmp_path, TIKISYNC_AUTO_UPGRADE=False)
    try:
        runner = app.test_cli_runner()
        refused = runner.invoke(args=["tikisync", "tracker", "list", "--json"])
        assert refused.exit_code == 1
        assert "tikisync init" in refused.output
        assert runner.invoke(args=["tikisync", "init"]).exit_code == 0
        listed = runner.invoke(args=["tikisync", "tracker", "list", "--json"])
        assert listed.exit_code == 0, listed.output
        assert "Legacy bugs" in listed.output
    finally:
        database.close()


def test_every_migration_is_safe_to_run_on_the_latest_schema(app):
    # A migration names today's models, so it must tolerate what a later one already made.
    with database.connection_context():
        before = _schema()
        migrator = migrations.SchemaMigrator.from_database(database)
        for _number, _name, step in migrations.MIGRATIONS:
            step(database, migrator)
        assert _schema() == before
