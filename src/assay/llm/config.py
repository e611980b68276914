"""Which server and model the LLM stages talk to: flags, then a config file, then the
environment, then the local default model.

Environment variables: ``ASSAY_LLM_BASE_URL``, ``ASSAY_LLM_MODEL``, ``ASSAY_LLM_API_KEY``
(``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` are read when assay's are unset, as most tools
do). A config file is TOML or YAML with an ``llm`` table of the same names in lower case
(``base_url``, ``model``, ``api_key``, ``timeout_s``, ``max_retries``, ``concurrency``,
``cache``). With no base URL anywhere, the stages start the local SmolLM2 server (``assay llm
serve``) and use it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from assay.llm.cache import ResponseCache
from assay.llm.client import LLMClient
from assay.sandbox.compile_cache import default_cache_root


@dataclass(frozen=True)
class LLMConfig:
    """Where to send requests and how.

    Attributes:
        base_url: API root (``.../v1``); None: the local default server.
        model: Model name; None: the server's own (the local one's, or ``default``).
        api_key: Bearer token, if the server wants one.
        timeout_s: Time limit of each request.
        max_retries: Retries after the first attempt.
        concurrency: Requests in flight at once.
        cache: The response cache file; None: ``<cache root>/llm-cache.sqlite``.
    """

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout_s: float = 300.0
    max_retries: int = 4
    concurrency: int = 4
    cache: Path | None = None

    @classmethod
    def resolve(cls, flags: Mapping[str, Any] | None = None,
                file_values: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> LLMConfig:
        """Flags over the file's ``llm`` table over the environment (None values skipped)."""
        env = os.environ if environ is None else environ
        from_env = {
            "base_url": env.get("ASSAY_LLM_BASE_URL") or env.get("OPENAI_BASE_URL"),
            "model": env.get("ASSAY_LLM_MODEL"),
            "api_key": env.get("ASSAY_LLM_API_KEY") or env.get("OPENAI_API_KEY")}
        config = cls()
        known = {f.name for f in fields(cls)}
        for layer in (from_env, file_values or {}, flags or {}):
            unknown = set(layer) - known
            if unknown:
                raise ValueError(f"unknown llm settings: {', '.join(sorted(unknown))} "
                                 f"(known: {', '.join(sorted(known))})")
            values: dict[str, Any] = {k: v for k, v in layer.items() if v is not None}
            if "cache" in values:
                values["cache"] = Path(values["cache"])
            config = replace(config, **values)
        return config

    def cache_path(self) -> Path:
        return self.cache or default_cache_root() / "llm-cache.sqlite"


def open_client(config: LLMConfig, use_cache: bool = True) -> LLMClient:
    """A client for the configured server, the local default one started if none is set."""
    base_url, model = config.base_url, config.model
    if base_url is None:
        from assay.llm.server import ensure_default_server

        server = ensure_default_server()
        base_url, model = server.base_url, model or server.model_name
    return LLMClient(base_url=base_url, model=model or "default", api_key=config.api_key,
                     timeout_s=config.timeout_s, max_retries=config.max_retries,
                     concurrency=config.concurrency,
                     cache=ResponseCache(config.cache_path()) if use_cache else None)
