"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from the app's key.

The key material is TIKISYNC_SECRET_KEY (or SECRET_KEY). It goes through HKDF-SHA256 with a
fixed context string, so the Fernet key is never the session-signing key itself and a future
purpose gets an independent key from the same material. Changing the key material makes
stored secrets unreadable (SecretUnreadable says so; the admin re-enters them).
"""
import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CONTEXT = b"tikisync-web/credential-secrets/v1"
SALT = b"tikisync-web"  # fixed: the material is already high-entropy, HKDF only separates uses


class SecretUnreadable(Exception):
    """A stored secret that this key cannot decrypt."""


def key_material(config):
    """TIKISYNC_SECRET_KEY, else SECRET_KEY, from a Flask config (or any mapping)."""
    material = config.get("TIKISYNC_SECRET_KEY") or config.get("SECRET_KEY")
    if not material:
        raise RuntimeError("set TIKISYNC_SECRET_KEY (or SECRET_KEY): stored secrets need it")
    return material


@functools.lru_cache(maxsize=8)
def _fernet(material):
    raw = material.encode("utf-8") if isinstance(material, str) else bytes(material)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=CONTEXT).derive(raw)
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(secret, material):
    """A Fernet token (text) for `secret`; "" stays "" (no secret stored)."""
    if not secret:
        return ""
    return _fernet(material).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(token, material):
    """The clear secret of a stored token; "" for no secret."""
    if not token:
        return ""
    try:
        return _fernet(material).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError):
        raise SecretUnreadable(
            "a stored secret cannot be decrypted: TIKISYNC_SECRET_KEY (or SECRET_KEY) changed "
            "since it was saved; enter the secret again") from None
