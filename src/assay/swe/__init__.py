"""SWE-style tasks: candidates from git history, FAIL_TO_PASS / PASS_TO_PASS by execution."""

__all__: list[str] = []
