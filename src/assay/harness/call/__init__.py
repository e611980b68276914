"""Call suites: arguments -> return value; one module per language."""

from assay.harness.call import javascript, python  # noqa: F401
