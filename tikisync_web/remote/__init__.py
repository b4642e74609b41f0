"""The only code that talks HTTP to a master (no Flask imports)."""
