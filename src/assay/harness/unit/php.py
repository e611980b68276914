"""php unit tests (to be written)."""
