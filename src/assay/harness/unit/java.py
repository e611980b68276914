"""java unit tests (to be written)."""
