"""JavaScript call suites (to be written)."""
