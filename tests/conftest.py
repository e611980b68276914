from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.llm.server import LocalServer, ensure_default_server, stop_default_server
from assay.sandbox import CompileCache, Sandbox, get_sandbox


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("assay-cache")


@pytest.fixture(scope="session")
def sandbox(cache_root: Path) -> Iterator[Sandbox]:
    """One real bwrap sandbox for the session, with its own compile cache."""
    with get_sandbox("bwrap", cache=CompileCache(cache_root)) as box:
        yield box


@pytest.fixture(scope="session")
def sandbox_cold(cache_root: Path) -> Iterator[Sandbox]:
    """The same backend with every run in a new sandbox and interpreter (no warm executors)."""
    with get_sandbox("bwrap", cache=CompileCache(cache_root), warm=False) as box:
        yield box


@pytest.fixture(scope="session")
def local_llm() -> Iterator[LocalServer]:
    """The real local SmolLM2 server (assay's llm extra), one for the session: the same one
    that ``ensure_default_server()`` hands to code under test in this process."""
    server = ensure_default_server()
    yield server
    stop_default_server()
