"""Ruby unit tests: Minitest::Test / Test::Unit::TestCase methods, or top-level raises."""

from __future__ import annotations

from assay.harness.base import ScriptUnitHarness, register_harness


@register_harness
class RubyUnitHarness(ScriptUnitHarness):
    """Runs each test method (``Class#test_name``) in its own forked Ruby process.

    Files without test classes run each top-level statement that raises or asserts as a
    test (``assert:LINE``), after the plain statements before it.
    """

    languages = ("ruby",)
    runner_file = "ruby_unit.rb"
    extension = "rb"
