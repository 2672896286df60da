"""Prefect task options and tasks shared by several flows."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.settings import Settings
from features.sources import Sources
from pipelines.runtime import retry_transient, stored_sources

# Frames are passed in memory, never hashed for caching; transient I/O and database errors are retried.
IO_TASK: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": 2,
    "retry_condition_fn": retry_transient,
    "cache_policy": NO_CACHE,
}
PURE_TASK: dict[str, Any] = {"cache_policy": NO_CACHE}


@task(name="load-sources", **IO_TASK)
def load_store(settings: Settings) -> Sources:
    """Every stored record (pseudonymised)."""
    return stored_sources(settings)
