"""Output checkers (to be written)."""
