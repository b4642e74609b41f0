"""jobs views (filled in by its issue)."""
