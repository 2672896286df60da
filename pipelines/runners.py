"""Where work fanned out inside a flow runs: this process, or a Dask cluster, chosen by the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from prefect.client.orchestration import get_client
from prefect.context import TaskRunContext
from prefect.futures import as_completed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from contracts.settings import Settings
from features.partition import consecutive_parts

T = TypeVar("T")


def task_runner(settings: Settings) -> TaskRunner[Any]:
    """A fresh task runner: one local worker thread, a Dask cluster at `dask_address`, or a local one."""
    if settings.task_runner == "local":
        return ThreadPoolTaskRunner(max_workers=1)
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": settings.dask_parts,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
            "silence_logs": logging.WARNING,
            # The workers report their task runs to this process's Prefect API (else each starts its own).
            "env": {"PREFECT_API_URL": _api_url()},
        }
    )


def _api_url() -> str:
    """The Prefect API this process talks to (the temporary local server in local mode)."""
    with get_client(sync_client=True) as client:
        return str(client.api_url)


def parts_of(items: Sequence[T], settings: Settings) -> list[list[T]]:
    """Items cut into consecutive parts, one task each: one part locally, `dask_parts` on Dask."""
    return consecutive_parts(items, 1 if settings.task_runner == "local" else settings.dask_parts)


def run_tasks(
    work: Any,
    arguments: Sequence[dict[str, Any]],
    settings: Settings,
    progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
    as_ready: bool = False,
) -> Iterator[Any]:
    """The results of a task called with each of the arguments, in their order (with `as_ready` on Dask, in
    the order they finish): one after another in this process, or all submitted to the configured Dask
    cluster (`task_runner` = dask; none is started for no arguments)."""
    if settings.task_runner == "dask":
        if not arguments:
            return
        if TaskRunContext.get() is not None:  # Prefect sends the running task's context with each part
            raise RuntimeError(
                f"{work.name}: Dask parts are submitted by a flow, not from inside a task (each part would "
                "be sent the task's inputs)"
            )
        with task_runner(settings) as runner:
            futures = [runner.submit(work, parameters) for parameters in arguments]
            for future in progress(as_completed(futures) if as_ready else futures):
                yield future.result()
        return
    for parameters in progress(arguments):
        yield work.fn(**parameters)
