"""Records (problems, solutions, test suites, reports), streaming IO and importers."""

from assay.data.errors import InputError
from assay.data.io import RecordWriter, check_records, read_records, read_rows, write_records
from assay.data.records import (
    Checker,
    Problem,
    Resources,
    Solution,
    SolutionReport,
    Status,
    SuiteOrigin,
    TestCase,
    TestOutcome,
    TestSuite,
)

__all__ = [
    "Checker", "InputError", "Problem", "RecordWriter", "Resources", "Solution",
    "SolutionReport", "Status", "SuiteOrigin", "TestCase", "TestOutcome", "TestSuite",
    "check_records", "read_records", "read_rows", "write_records",
]
