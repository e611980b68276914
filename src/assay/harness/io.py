"""stdin -> stdout suites (to be written)."""
