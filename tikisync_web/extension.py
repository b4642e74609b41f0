"""TikiSync: the Flask extension. `create_app` is one host of it; any Flask site can be another."""
from __future__ import annotations

import os

from flask import Flask

from . import db, migrations

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TikiSync:
    """Mount tikisync-web on a Flask app: `TikiSync(app)`, or `TikiSync().init_app(app,
    url_prefix="/sync")` for an app built later (an application factory)."""

    def __init__(self, app: Flask | None = None, url_prefix: str | None = None) -> None:
        self.url_prefix = url_prefix
        if app is not None:
            self.init_app(app, url_prefix)

    def init_app(self, app: Flask, url_prefix: str | None = None) -> TikiSync:
        prefix = url_prefix if url_prefix is not None else self.url_prefix
        config = app.config
        # Every setting, with its default, in one place.
        config.setdefault("TIKISYNC_DATABASE",  # a peewee db_url
                          "sqlite:///" + os.path.join(app.instance_path, "tikisync.db"))
        config.setdefault("TIKISYNC_SECRET_KEY", None)  # encrypts stored secrets; None: SECRET_KEY
        config.setdefault("TIKISYNC_AUTO_UPGRADE", True)  # create/upgrade the schema at start-up
        config.setdefault("TIKISYNC_BASE_TEMPLATE", "tikisync/layout.html")  # pages extend this
        config.setdefault("TIKISYNC_LOAD_ASSETS", True)  # False when the host already loads htmx 2
        config.setdefault("TIKISYNC_PAGE_SIZE", 50)  # items per list page
        config.setdefault("TIKISYNC_HTTP_TIMEOUT", 30)  # seconds, every request to a master
        config.setdefault("TIKISYNC_CA_BUNDLE", None)  # a CA file for masters with a private CA
        config.setdefault("TIKISYNC_POLL_SECONDS", 1)  # progress widgets poll this often
        config.setdefault("TIKISYNC_JOB_RUNNER", "thread")  # thread | inline | worker
        config.setdefault("TIKISYNC_JOB_STALE_SECONDS", 60)  # no heartbeat this long: interrupted
        config.setdefault("TIKISYNC_FRAME_ANCESTORS", "'self'")  # CSP frame-ancestors allow-list
        # Schedules (jobs/scheduler.py): who runs them, how often it looks, retries, notices.
        config.setdefault("TIKISYNC_SCHEDULER", "auto")  # auto | thread | off
        config.setdefault("TIKISYNC_SCHEDULER_TICK", 15)  # seconds between looks for due runs
        config.setdefault("TIKISYNC_SCHEDULE_RETRY", 60)  # first wait after a failed run
        config.setdefault("TIKISYNC_SCHEDULE_RETRY_MAX", 3600)  # longest wait between retries
        config.setdefault("TIKISYNC_SCHEDULE_PAUSE_AFTER", 5)  # failed runs in a row: pause
        config.setdefault("TIKISYNC_PUBLIC_URL", None)  # the site's root, for links in notices
        config.setdefault("TIKISYNC_SMTP_HOST", None)  # no host: no email
        config.setdefault("TIKISYNC_SMTP_PORT", None)  # 25, or 465 with TIKISYNC_SMTP_SSL
        config.setdefault("TIKISYNC_SMTP_USER", None)
        config.setdefault("TIKISYNC_SMTP_PASSWORD", None)
        config.setdefault("TIKISYNC_SMTP_FROM", None)  # default tikisync@<this host>
        config.setdefault("TIKISYNC_SMTP_STARTTLS", False)
        config.setdefault("TIKISYNC_SMTP_SSL", False)
        config.setdefault("TIKISYNC_SMTP_TIMEOUT", 10)
        config.setdefault("TIKISYNC_WEBHOOK_URL", None)  # notices as JSON POSTs (allow-listed)
        if not app.secret_key:
            # TIKISYNC_SECRET_KEY alone is not enough: sessions and CSRF tokens are signed with
            # the app's own key, and every page would fail at its first request.
            raise RuntimeError("tikisync-web needs the app's SECRET_KEY (it signs sessions and "
                               "CSRF tokens); set it before init_app")
        if config["TIKISYNC_FRAME_ANCESTORS"] != "'self'":
            # Inside another site's iframe, the session cookie must be sent cross-site.
            config["SESSION_COOKIE_SAMESITE"] = "None"
            config["SESSION_COOKIE_SECURE"] = True

        from . import jobs  # registers the job handlers too

        jobs.configure(stale_seconds=config["TIKISYNC_JOB_STALE_SECONDS"])
        db.bind(config["TIKISYNC_DATABASE"])
        if config["TIKISYNC_AUTO_UPGRADE"]:
            migrations.upgrade()

        from .cli import tikisync as cli_group
        from .master import make_master_blueprint
        from .views import make_blueprint

        app.register_blueprint(make_blueprint(), url_prefix=prefix or None)
        app.register_blueprint(make_master_blueprint(), url_prefix=prefix or None)
        if "tikisync" not in app.cli.commands:
            app.cli.add_command(cli_group)
        app.extensions["tikisync"] = self
        return self

    @staticmethod
    def secret_key(app: Flask) -> str | bytes | None:
        return app.config.get("TIKISYNC_SECRET_KEY") or app.secret_key
