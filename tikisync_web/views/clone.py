"""clone views (filled in by its issue)."""
