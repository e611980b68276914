"""go unit tests (to be written)."""
