"""WTForms (through Flask-WTF for CSRF), one module per page family: accounts, trackers, items,
clone, credentials; `common` holds what they share."""
