"""What tests share.

Plugins, registered by tests/conftest.py (their fixtures reach every test; import their
helpers, never their fixtures): fake_master (make_master, fake_master), master_api (master),
instances (instances, module_instances).

Helpers: apps (make_app, the CSRF-aware Client, users, Auth), pages (url, soup), databases,
seed, sync, clone, remote_client, browser (LiveServer, sign_in), waiting (wait_until), and
Tiki's own pieces: tiki_readraw, tiki_recorded.
"""
