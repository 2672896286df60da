"""A rehearsal of daily operations on the demo city: a month of deliveries, daily runs, a drifted week.

The simulated exports are cut by when each record became known: everything known before the first
day is loaded and a model trained on it; then, day by day, the records that became known the day
before are dropped into the inbox and the daily run takes them in, scores, checks and publishes or
holds. During the drifted week the hotline deliveries are multiplied (every call repeated under new
call ids), as when a campaign or a broken export floods the hotline: the run must hold the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger

from cities.demo import FILE_NAMES, SimulatedCity, SimulationConfig, simulate_city
from contracts.settings import Settings
from contracts.timeparse import as_of_instant, parse_datetimes
from contracts.vocabulary import RecordKind
from pipelines.daily_flow import DailyReport, daily_flow
from pipelines.ingest_flow import ingest_flow
from pipelines.train_flow import train_flow

__all__ = ["RehearsalPlan", "rehearsal_flow"]

TIMESTAMPS = {
    RecordKind.CASES: "opened_at",
    RecordKind.CASE_EVENTS: "event_at",
    RecordKind.HOTLINE: "received_at",
}


@dataclass(frozen=True)
class RehearsalPlan:
    """Which days the rehearsal runs and which week is drifted."""

    days: int = 30
    drift_start_day: int = 14
    drift_days: int = 7
    drift_factor: int = 4


def known_days(frame: pd.DataFrame, kind: RecordKind) -> pd.Series:
    """The local day on which each exported record became known: its own time or `recorded_at` if later."""
    own = parse_datetimes(frame[TIMESTAMPS[kind]])
    recorded = parse_datetimes(frame["recorded_at"]) if "recorded_at" in frame else own
    known = pd.concat([own, recorded], axis=1).max(axis=1)
    return known.dt.normalize()


def split_deliveries(
    city: SimulatedCity, first: date, days: int
) -> tuple[dict[RecordKind, pd.DataFrame], dict[date, dict[RecordKind, pd.DataFrame]]]:
    """Records known before `first` (with unreadable dates, which ingest will quarantine), and per day
    D of the rehearsal the records that became known on D - 1 (delivered on the morning of D)."""
    frames = {
        RecordKind.CASES: city.cases,
        RecordKind.CASE_EVENTS: city.case_events,
        RecordKind.HOTLINE: city.hotline,
    }
    start = as_of_instant(first)
    initial, daily = {}, {first + timedelta(days=i): {} for i in range(days)}
    for kind, frame in frames.items():
        known = known_days(frame, kind)
        initial[kind] = frame[known.isna() | (known < start)]
        for day in daily:
            previous = pd.Timestamp(day - timedelta(days=1))
            daily[day][kind] = frame[known == previous]
    return initial, daily


def flood(calls: pd.DataFrame, factor: int) -> pd.DataFrame:
    """The calls repeated `factor` times in all, the copies under new call ids."""
    copies = [calls.assign(call_id=calls["call_id"] + f"-R{i}") for i in range(1, factor)]
    return pd.concat([calls, *copies], ignore_index=True)


def drop(frames: dict[RecordKind, pd.DataFrame], folder: Path, label: str) -> list[Path]:
    """Write non-empty frames as the contract's CSV files (named by kind and label) into a folder."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, frame in frames.items():
        if len(frame):
            path = folder / f"{FILE_NAMES[kind].removesuffix('.csv')}-{label}.csv"
            frame.to_csv(path, index=False, encoding="utf-8")
            paths.append(path)
    return paths


@flow(name="rehearsal")
def rehearsal_flow(
    config: SimulationConfig, plan: RehearsalPlan, settings: Settings | None = None
) -> list[DailyReport]:
    """Simulate, load and train up to the first day, then run every day of the plan from the inbox."""
    settings = settings or Settings()
    logger = get_run_logger()
    city = simulate_city(config)
    first = config.start + timedelta(days=config.days - plan.days)
    initial, daily = split_deliveries(city, first, plan.days)
    ingest_flow(
        drop(initial, settings.home / "rehearsal" / "initial", "initial"), settings, allow_local_key=True
    )
    train_flow(first, settings)
    drifted = {first + timedelta(days=plan.drift_start_day + i) for i in range(plan.drift_days)}
    reports = []
    for day, frames in daily.items():
        if day in drifted:
            frames = {**frames, RecordKind.HOTLINE: flood(frames[RecordKind.HOTLINE], plan.drift_factor)}
        drop(frames, settings.inbox_dir, day.isoformat())
        report = daily_flow(day, settings, allow_local_key=True)
        logger.info("%s: %s%s", day, report.status, " (drifted deliveries)" if day in drifted else "")
        reports.append(report)
    return reports
