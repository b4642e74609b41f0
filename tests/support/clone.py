"""Helpers for the clone wizard's tests (HTTP and browser layers)."""
from tests.support import fake_master as fm

LIMITED, LIMITED_PASSWORD = "reader", "reader-password"


def tiki9_master(make_master, **kw):
    """A fake master that behaves as Tiki 9-23 for list_trackers (§5.1): only tracker
    administrators may list trackers. `reader` is an account without those rights."""
    master = make_master(accounts={fm.USER: fm.PASSWORD, LIMITED: LIMITED_PASSWORD},
                         limited_users={LIMITED}, **kw)
    listing = master.list_trackers

    def list_trackers(user, params):
        master._require_admin(user)
        return listing(user, params)

    master.list_trackers = list_trackers
    return master


def hidden_inputs(form):
    """{name: value} of a BeautifulSoup form's hidden inputs."""
    return {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
