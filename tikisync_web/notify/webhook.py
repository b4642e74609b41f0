"""A notice as a small JSON POST to a webhook, only to an origin the outbound policy allows."""
import requests

from .. import credentials
from ..remote import urls
from ..remote.errors import OutboundRefused

USER_AGENT = "tikisync-web notices"


class WebhookError(RuntimeError):
    """The notice was not taken by the webhook; the text says why."""


def post(notice, url, timeout=10.0, ca_bundle=None):
    """POST the notice's JSON to `url`; raises WebhookError. Redirects are not followed."""
    try:
        urls.locate(url)
        credentials.check_outbound(url)
    except (urls.UrlError, OutboundRefused) as exc:
        raise WebhookError(f"not sent to {url}: {exc}") from None
    try:
        with requests.Session() as session:
            response = session.post(url, json=notice.as_json(), timeout=timeout,
                                    allow_redirects=False, verify=ca_bundle or True,
                                    headers={"User-Agent": USER_AGENT,
                                             "X-Tikisync-Event": notice.event})
    except requests.RequestException as exc:
        raise WebhookError(f"the webhook {urls.locate(url).origin} did not answer "
                           f"({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise WebhookError(f"the webhook {urls.locate(url).origin} answered HTTP "
                           f"{response.status_code}")
