"""LLM stages' plumbing: the local default model server (and, merged in, the client)."""

from assay.llm.server import (
    LocalServer,
    ModelNotFoundError,
    NotInstalledError,
    ServerError,
    ensure_default_server,
    find_default_model,
    stop_default_server,
)

__all__ = [
    "LocalServer",
    "ModelNotFoundError",
    "NotInstalledError",
    "ServerError",
    "ensure_default_server",
    "find_default_model",
    "stop_default_server",
]
