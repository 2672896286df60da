"""Builders for the tests: the test key, hand-made delivered rows and sources, the PostgreSQL test database,
and the trained home of the tiny city that the flow tests share."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

from cities.demo import SimulationConfig
from contracts.fields import columns_of
from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from features.dictionary import FeatureDoc
from features.sources import Sources
from ingest.validate import validate_frame
from models.date_policy import DatePolicy
from models.estimator import Candidate, Kind
from models.train import TrainingPlan
from pipelines.configuration import hyperparameters
from warehouse import tables
from warehouse.store import Warehouse, append

if TYPE_CHECKING:
    from pipelines.demo_flow import DemoReport

TEST_KEY = b"test-key-not-secret-0123456789abcdef"


def make_candidate(
    name: str, kind: Kind, docs: tuple[FeatureDoc, ...], params: dict[str, Any] | None = None, **fields: Any
) -> Candidate:
    """A model-grid candidate with the settings' default hyperparameters of its kind, `params` over them."""
    defaults = hyperparameters(Settings.model_construct())[kind]
    return Candidate(name, kind, docs, {**defaults, **(params or {})}, **fields)


def case_row(case_id: str, opened_at: str, **fields: str) -> dict[str, str]:
    """A hand-made delivered case row (district and category defaulted)."""
    return {
        "case_id": case_id,
        "opened_at": opened_at,
        "district": "东湖区",
        "category": "劳资纠纷",
        **fields,
    }


def event_row(case_id: str, event_at: str, event_type: str, **fields: str) -> dict[str, str]:
    """A hand-made delivered case-event row."""
    return {"case_id": case_id, "event_at": event_at, "event_type": event_type, **fields}


def call_row(call_id: str, received_at: str, **fields: str) -> dict[str, str]:
    """A hand-made delivered hotline row (district defaulted)."""
    return {"call_id": call_id, "received_at": received_at, "district": "东湖区", **fields}


def text_frame(rows: list[dict[str, str]], kind: RecordKind) -> pd.DataFrame:
    """A delivered file's rows as text, with 1-based row numbers, as the readers produce them."""
    frame = pd.DataFrame(
        rows, columns=list(dict.fromkeys([*columns_of(kind), *(k for r in rows for k in r)]))
    )
    frame = frame.astype(object).fillna("").astype(str)
    frame.insert(0, "_row", range(1, len(frame) + 1))
    return frame


def stored(kind: RecordKind, rows: list[dict[str, str]]) -> pd.DataFrame:
    """Hand-made contract rows in stored form; fails if any row would be quarantined."""
    validated = validate_frame(text_frame(rows, kind), kind, f"{kind.value}.csv", TEST_KEY)
    assert validated.quarantine.empty, validated.quarantine.to_dict("records")
    return validated.records


def make_sources(
    cases: list[dict[str, str]], events: list[dict[str, str]], hotline: list[dict[str, str]]
) -> Sources:
    """Sources from hand-made rows of the three kinds."""
    return Sources(
        cases=stored(RecordKind.CASES, cases),
        events=stored(RecordKind.CASE_EVENTS, events),
        hotline=stored(RecordKind.HOTLINE, hotline),
    )


def store_sources(warehouse: Warehouse, sources: Sources) -> None:
    """Hand-made sources written to a store's input tables, as from one file ingested on 2025-04-01."""
    with warehouse.transaction() as connection:
        for table, frame in zip(
            (tables.cases, tables.case_events, tables.hotline),
            (sources.cases, sources.events, sources.hotline),
            strict=True,
        ):
            append(
                connection,
                table,
                frame.assign(source_file="test.csv", ingested_at=pd.Timestamp("2025-04-01")),
            )


STORE_BACKENDS = ("sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))
"""Parameters of a test run on both stores: the PostgreSQL one marked `postgres` (one shared database)."""

POSTGRES_URL = os.environ.get(
    "FENGQIAO_TEST_POSTGRES_URL", "postgresql+psycopg://fengqiao:fengqiao@127.0.0.1:5432/fengqiao_test"
)


POSTGRES_MARKED = {"current test": False}
"""Whether the running test is marked `postgres` (set by conftest for each test): only those may empty a
shared database, since parallel workers run them one after another."""


def empty_database(url: str, what: str = "test PostgreSQL database") -> str:
    """The PostgreSQL database at `url` with an empty schema, or a skip saying why there is none."""
    import sqlalchemy

    if not POSTGRES_MARKED["current test"]:
        raise pytest.UsageError("a test that empties a shared PostgreSQL database must be marked `postgres`")
    try:
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    except Exception as error:  # no driver, no server, no database: the SQLite runs still cover the logic
        pytest.skip(
            f"no {what} at {sqlalchemy.engine.make_url(url)!r} ({type(error).__name__}); "
            ".ci/postgres.sh creates it"
        )
    return url


def empty_postgres() -> str:
    """The warehouse's test PostgreSQL database with an empty schema, or a skip saying why there is none."""
    return empty_database(POSTGRES_URL)


def backend_store(backend: str, folder: Path) -> Warehouse:
    """An empty store on one of STORE_BACKENDS: the shared PostgreSQL test database, or SQLite in `folder`."""
    return Warehouse(empty_postgres() if backend == "postgresql" else f"sqlite:///{folder / 'store.db'}")


# ---------------------------------------------------------------- the trained home the flow tests share

TRAINED_CITY = SimulationConfig(seed=3, n_cases=700, days=240, messiness=0.01)
TRAINED_KEY = "end-to-end-test-key-0123456789abcdef"


@dataclass(frozen=True)
class TrainedHome:
    """The demo run on the tiny city: its report, its settings, and every log line it wrote."""

    report: DemoReport
    settings: Settings
    logs: tuple[str, ...]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


# The whole grid (the default holds the logistic blend alone), so that the tests train, search, blend
# and choose among every kind of candidate.
FULL_GRID = ("logistic_blend", "trees_tuned", "blend")


def trained_settings(home: Path, **fields: Any) -> Settings:
    """Settings of a home of the tiny city: its key, the full model grid (`FULL_GRID`), the given
    fields."""
    return Settings(home=home, pseudonym_key=TRAINED_KEY, **{"candidates": FULL_GRID, **fields})


def build_trained_home(home: Path) -> TrainedHome:
    """The tiny city simulated, ingested, trained (the full grid) and listed in `home` by the demo."""
    from pipelines.demo_flow import demo_flow  # Prefect and MLflow load only for the flow tests

    settings = trained_settings(home)
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    try:
        report = demo_flow(TRAINED_CITY, settings)
    finally:
        root.removeHandler(collect)
    return TrainedHome(report, settings, tuple(collect.lines))


def copy_home(trained: TrainedHome, to: Path) -> Settings:
    """A private copy of a trained home at `to`, for a test that changes it; the original stays as it was.

    MLflow's store names its artifact folders by absolute path: the copy's are moved to the copy's own."""
    shutil.copytree(trained.settings.home, to)
    source, target = trained.settings.home, to.resolve()
    moves = [(source.as_uri(), target.as_uri()), (str(source), str(target))]
    with contextlib.closing(sqlite3.connect(to / "mlflow.db")) as database, database:  # one transaction
        tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in [row[1] for row in database.execute(f'PRAGMA table_info("{table}")')]:
                for old, new in moves:
                    database.execute(
                        f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                        f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                        (old, new, old),
                    )
    return trained_settings(to)


DATE_POLICY_FIELDS = {f.name for f in fields(DatePolicy)}
# Weekly snapshots over at most 120 days, 30 days after the first case, two folds.
SMALL_DATE_POLICY = DatePolicy(
    horizon_days=30,
    snapshot_every_days=7,
    training_window_days=120,
    burn_in_days=30,
    validation_share=0.3,
    n_folds=2,
    calibration_share=0.25,
)
SMALL_PLAN = TrainingPlan(
    date_policy=SMALL_DATE_POLICY,
    calibration_method="sigmoid",
    refit_final=False,
    top_fraction=0.05,
    list_k=20,
    seed=1,
)


def small_plan(**changes: Any) -> TrainingPlan:
    """A training plan for small synthetic matrices (two folds, no final refit), with some fields (of the
    plan or of its date policy) changed."""
    dated = {name: changes.pop(name) for name in DATE_POLICY_FIELDS & changes.keys()}
    return replace(SMALL_PLAN, date_policy=replace(SMALL_PLAN.date_policy, **dated), **changes)


def generalization_results(scenarios: list[dict], summary: dict, cases: int = 1000, days: int = 400) -> dict:
    """A bench.generalization results record around hand-made scenario rows."""
    return {
        "command": f"python -m bench.generalization --cases {cases}",
        "date": "2026-01-02",
        "settings": {
            "cases": cases,
            "days": days,
            "score_dates": 7,
            "step_days": 14,
            "top_fraction": 0.05,
            "horizon_days": 30,
        },
        "notes": [],
        "scenarios": scenarios,
        "summary": summary,
        "machine": {"cpu_model": "cpu", "usable_cores": 2},
        "code": {"commit": "abc1234", "fingerprint": "f" * 16, "uncommitted": []},
    }
