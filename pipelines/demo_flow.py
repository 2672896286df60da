"""The demo: simulate a city, ingest it, train as of the day after its data ends, publish that day's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task

from cities.demo import SimulationConfig, simulate_city, write_city
from contracts.settings import Settings
from pipelines.ingest_flow import IngestReport, ingest_flow
from pipelines.score_flow import ScoreReport, score_flow
from pipelines.tasks import IO_TASK
from pipelines.train_flow import TrainReport, train_flow

__all__ = ["DemoReport", "demo_flow"]

INPUT_FILES = ("cases", "case_events", "hotline")


@dataclass(frozen=True)
class DemoReport:
    """Everything the demo produced."""

    data_dir: Path
    as_of: date
    ingest: IngestReport
    train: TrainReport
    score: ScoreReport


@task(name="simulate-city", **IO_TASK)
def simulate(config: SimulationConfig, out_dir: Path) -> dict[str, Path]:
    """Generate the demo city's exports and truth files."""
    return write_city(simulate_city(config), out_dir)


def demo_as_of(config: SimulationConfig) -> date:
    """The demo's 'today': the day after the simulated exports end."""
    return config.start + timedelta(days=config.days)


@flow(name="demo")
def demo_flow(config: SimulationConfig, settings: Settings | None = None) -> DemoReport:
    """Simulate, ingest, train and publish a demo city end to end on the embedded defaults."""
    settings = settings or Settings()
    logger = get_run_logger()
    data_dir = settings.home / "demo-city"
    files = simulate(config, data_dir)
    logger.info("simulated %d cases over %d days into %s", config.n_cases, config.days, data_dir)
    ingested = ingest_flow([files[name] for name in INPUT_FILES], settings, allow_local_key=True)
    as_of = demo_as_of(config)
    trained = train_flow(as_of, settings)
    scored = score_flow(as_of, settings)
    return DemoReport(data_dir, as_of, ingested, trained, scored)
