"""c_family unit tests (to be written)."""
