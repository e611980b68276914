"""bash unit tests (to be written)."""
