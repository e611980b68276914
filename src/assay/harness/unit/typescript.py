"""typescript unit tests (to be written)."""
