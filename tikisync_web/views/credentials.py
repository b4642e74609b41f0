"""credentials views (filled in by its issue)."""
