"""Content digests are not security: on an OpenSSL in FIPS mode, which refuses SHA-1 for
security use, every digest still works (they ask with usedforsecurity=False)."""
import subprocess
import sys

PROGRAM = r'''
import hashlib

_sha1 = hashlib.sha1


def fips_sha1(*args, usedforsecurity=True, **kw):
    if usedforsecurity:
        raise ValueError("[digital envelope routines] unsupported: SHA-1 in FIPS mode")
    return _sha1(*args, usedforsecurity=usedforsecurity, **kw)


hashlib.sha1 = fips_sha1  # before anything of ours is imported, as FIPS would be

from tikisync_web.sync.clone import ClonePlan
from tikisync_web.sync.incoming import digest
from tikisync_web.sync.push import Plan
from tikisync_web.sync.push.context import payload_hash
from tikisync_web.values import content_hash
from tikisync_web.views.sync_tab import plan_digest

values = {"title": "x", "amount": "1"}
assert digest(values, "o") == content_hash(values, "o")
payload_hash("o", values)
plan_digest(Plan())
ClonePlan(1, "t", "", "", []).digest()
print("ok")
'''


def test_every_content_digest_works_where_sha1_is_refused_for_security():
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
