"""sync views (filled in by its issue)."""
