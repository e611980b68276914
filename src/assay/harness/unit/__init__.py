"""Unit-test harnesses, one module per language; importing this registers them all."""

from assay.harness.unit import (  # noqa: F401
    bash,
    c_family,
    go,
    java,
    javascript,
    php,
    python,
    ruby,
    rust,
    typescript,
)
