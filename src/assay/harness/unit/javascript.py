"""javascript unit tests (to be written)."""
