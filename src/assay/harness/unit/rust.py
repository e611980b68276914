"""rust unit tests (to be written)."""
