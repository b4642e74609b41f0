"""The Tiki-compatible web services we serve (Gen A ajax services and Gen B tiki-api.php),
so a real Tiki or another tikisync-web can clone, reload and push to our trackers.
tiki-protocol.md §11 is the contract; README "Serving trackers as a Tiki master" the guide."""
from . import routes  # noqa: F401  (importing registers the URLs)
from .blueprint import bp


def make_master_blueprint():
    return bp
