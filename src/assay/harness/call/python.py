"""Python call suites (to be written)."""
