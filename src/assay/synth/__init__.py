"""Synthesis: the stages that make and measure training data (mutants, suite strength)."""
