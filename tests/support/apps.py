"""Apps and accounts for tests: the app factory with test settings, a CSRF-aware client,
users with a known password, and signing in."""
import functools
import os

from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from tests.support.pages import url
from tikisync_web import accounts, create_app, jobs
from tikisync_web.db import database
from tikisync_web.jobs import scheduler

PASSWORD = "correct horse battery"


class Client(FlaskClient):
    """A test client that sends the CSRF token with every form post, as a browser would."""

    send_csrf = True

    def csrf_token(self):
        app = self.application
        with self.session_transaction() as sess:
            if "csrf_token" not in sess:
                sess["csrf_token"] = os.urandom(20).hex()
            raw = sess["csrf_token"]
        secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)

    def open(self, *args, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if self.send_csrf and method in ("POST", "PUT", "PATCH", "DELETE"):
            data = kwargs.get("data")
            if data is None:
                kwargs["data"] = data = {}
            if isinstance(data, dict) and "csrf_token" not in data:
                kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().open(*args, **kwargs)


def make_app(db_url, tmp_path, **config):
    """An app on `db_url` with test settings (inline jobs, pages of 20); `config` overrides."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "TIKISYNC_DATABASE": db_url,
        "TIKISYNC_JOB_RUNNER": "inline",
        "TIKISYNC_PAGE_SIZE": 20,
    }
    settings.update(config)
    os.environ.setdefault("TIKISYNC_INSTANCE", str(tmp_path / "instance"))
    app = create_app(settings)
    app.test_client_class = Client
    return app


def finish_app():
    """After a test's app: its scheduler and job threads end before its database goes."""
    scheduler.stop_all()
    jobs.wait_for_threads()
    if not database.is_closed():
        database.close()


@functools.lru_cache(maxsize=1)
def password_hash():
    """PASSWORD hashed once per session: a real hash costs about 0.1 s, too much per test."""
    return accounts.hash_password(PASSWORD)


def make_user(username, role):
    """An account with PASSWORD, created without paying for a fresh hash."""
    from tikisync_web.models import User

    with database.connection_context():
        return User.create(username=username, role=role, password_hash=password_hash())


def session_of(user):
    """What a signed-in session holds for `user` (to set it without signing in)."""
    from tikisync_web.models import User
    from tikisync_web.views.common import GENERATION_KEY, SESSION_KEY

    with database.connection_context():
        generation = User.get_by_id(user.id).session_generation
    return {SESSION_KEY: user.id, GENERATION_KEY: generation}


class Auth:
    """Signing a test client in and out as one of `users` (a dict role -> User)."""

    def __init__(self, client, users):
        self.client, self.users = client, users

    def login(self, role="admin"):
        response = self.client.post(url(self.client.application, "tikisync.login"),
                                    data={"username": role, "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    def become(self, role="admin"):
        """Sign in as `role` by setting the session directly (for tests not about signing in)."""
        user = self.users[role]
        with self.client.session_transaction() as sess:
            sess.update(session_of(user))
        return user

    def logout(self):
        return self.client.post(url(self.client.application, "tikisync.logout"))
