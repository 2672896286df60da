"""Schedules: the daily run and the weekly retraining as Prefect deployments served from one process."""

from __future__ import annotations

import json
import os

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from contracts.settings import Settings
from pipelines.daily_flow import daily_flow
from pipelines.train_flow import train_flow

TIMEZONE = "Asia/Shanghai"
SECRET_SETTINGS = ("pseudonym_key",)


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """The daily run and the weekly retraining, one run at a time each, on the configured schedules.

    Serving again under the same names updates these deployments instead of adding new ones, and
    a concurrency limit of one keeps a slow day from overlapping the next; a daily run for a day
    already published with the same model and inputs does nothing, so a day never gets two lists.
    """
    return [
        daily_flow.to_deployment(
            name="daily",
            schedule=Cron(settings.daily_cron, timezone=TIMEZONE),
            concurrency_limit=1,
            description="Ingest the inbox, score, check health, publish or hold, report.",
            tags=["fengqiao"],
        ),
        train_flow.to_deployment(
            name="weekly-retrain",
            schedule=Cron(settings.retrain_cron, timezone=TIMEZONE),
            concurrency_limit=1,
            description="Retrain on everything known; the champion moves only through the promotion gate.",
            tags=["fengqiao"],
        ),
    ]


def settings_environment(settings: Settings) -> dict[str, str]:
    """Every setting of this process (but secrets, which served runs read from their own environment),
    as the FENGQIAO_* variables served runs build their settings from."""
    values = settings.model_dump(mode="json", exclude=set(SECRET_SETTINGS))
    return {
        f"FENGQIAO_{name.upper()}": json.dumps(value) if isinstance(value, list | dict) else str(value)
        for name, value in values.items()
        if value is not None
    }


def serve_schedules(settings: Settings) -> None:
    """Serve both deployments until interrupted (Prefect's local mode, or the server at PREFECT_API_URL)."""
    os.environ.update(settings_environment(settings))
    serve(*deployments(settings))
