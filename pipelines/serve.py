"""Schedules: the daily run and the weekly retraining as Prefect deployments served from one process.

The same two deployments are registered on a work pool by `pipelines.deploy` (`fengqiao deploy`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from prefect import Flow, serve
from prefect.deployments.runner import RunnerDeployment
from prefect.runner.storage import RunnerStorage
from prefect.schedules import Cron

from contracts.settings import Settings
from pipelines.daily_flow import daily_flow
from pipelines.train_flow import train_flow

TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Scheduled:
    """A flow on a schedule: the deployment's name, the setting holding its cron line, what it does."""

    flow: Flow[..., Any]
    name: str
    cron_setting: str
    description: str

    @property
    def entrypoint(self) -> str:
        """Where the flow is defined, relative to the repository root (`pipelines/x.py:function`)."""
        function = self.flow.fn
        return f"{function.__module__.replace('.', '/')}.py:{function.__name__}"


SCHEDULED = (
    Scheduled(
        daily_flow, "daily", "daily_cron", "Ingest the inbox, score, check health, publish or hold, report."
    ),
    Scheduled(
        train_flow,
        "weekly-retrain",
        "retrain_cron",
        "Retrain on everything known; the champion moves only through the promotion gate.",
    ),
)


def deployments(
    settings: Settings, source: str | RunnerStorage | None = None, **options: Any
) -> list[RunnerDeployment]:
    """The daily run and the weekly retraining, one run at a time each, on the configured schedules.

    Serving again under the same names updates these deployments instead of adding new ones, and
    a concurrency limit of one keeps a slow day from overlapping the next; a daily run for a day
    already published with the same model and inputs does nothing, so a day never gets two lists.
    With a `source` (a folder or a git repository holding this code), each flow is loaded from it,
    so that workers elsewhere fetch and run that code; `options` go to `Flow.to_deployment`
    (a work pool, job variables).
    """
    made = []
    for scheduled in SCHEDULED:
        flow = scheduled.flow if source is None else scheduled.flow.from_source(source, scheduled.entrypoint)
        made.append(
            flow.to_deployment(
                name=scheduled.name,
                schedule=Cron(getattr(settings, scheduled.cron_setting), timezone=TIMEZONE),
                concurrency_limit=1,
                description=scheduled.description,
                tags=["fengqiao"],
                **options,
            )
        )
    return made


def serve_schedules(settings: Settings) -> None:
    """Serve both deployments until interrupted (Prefect's local mode, or the server at PREFECT_API_URL)."""
    os.environ.update(settings.environment())
    serve(*deployments(settings))
