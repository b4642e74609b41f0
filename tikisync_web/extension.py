"""TikiSync: the Flask extension. `create_app` is one host of it; any Flask site can be another."""
from __future__ import annotations

import os
from collections.abc import Callable

from flask import Flask

from . import browser_policy as policy
from . import config as settings
from . import db, migrations


class TikiSync:
    """Mount tikisync-web on a Flask app: `TikiSync(app)`, or `TikiSync().init_app(app,
    url_prefix="/sync")` for an app built later (an application factory)."""

    def __init__(self, app: Flask | None = None, url_prefix: str | None = None) -> None:
        self.url_prefix = url_prefix
        self.host_user_loader: Callable[[], tuple[str, str] | None] | None = None
        # The host's sign-in page (an endpoint or a URL) for visitors its loader does not know.
        self.login_view: str | None = None
        if app is not None:
            self.init_app(app, url_prefix)

    def init_app(self, app: Flask, url_prefix: str | None = None) -> TikiSync:
        prefix = url_prefix if url_prefix is not None else self.url_prefix
        config = app.config
        # Every setting, with its default and type, is in config.SETTINGS; a host's values win.
        config.setdefault("TIKISYNC_DATABASE",  # a peewee db_url
                          "sqlite:///" + os.path.join(app.instance_path, "tikisync.db"))
        settings.fill_defaults(config)
        if not app.secret_key:
            # TIKISYNC_SECRET_KEY alone is not enough: sessions and CSRF tokens are signed with
            # the app's own key, and every page would fail at its first request.
            raise RuntimeError("tikisync-web needs the app's SECRET_KEY (it signs sessions and "
                               "CSRF tokens); set it before init_app")
        standalone = isinstance(app.session_interface, policy.FramingSessionInterface)
        for problem in policy.startup_problems(app, standalone):
            app.logger.warning("tikisync-web: %s", problem)

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

    def user_loader(self, callback: Callable[[], tuple[str, str] | None]):
        """Decorator: the host signs people in, not us. `callback()` runs in every request of
        ours and returns `(username, role)` for the person signed in to the host (role one of
        admin, editor, viewer), or None for an anonymous visitor, who is sent to
        `self.login_view`. The user is created here on first sight, and takes the role the
        host gives; our own sign-in page is then never shown."""
        self.host_user_loader = callback
        return callback

    @staticmethod
    def secret_key(app: Flask) -> str | bytes | None:
        return app.config.get("TIKISYNC_SECRET_KEY") or app.secret_key
