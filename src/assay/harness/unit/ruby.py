"""ruby unit tests (to be written)."""
