"""Remote masters: credentials (dsn) and remote listing commands."""
