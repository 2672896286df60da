"""Shared fixtures: a pseudonymisation key, an isolated home folder, hand-made sources, Prefect's harness."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from contracts.fields import columns_of
from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from features.sources import Sources
from ingest.validate import validate_frame

TEST_KEY = b"test-key-not-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's temporary test server, started once for the whole session."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with a fresh home folder and a test key, nothing from the developer's environment."""
    for name in list(os.environ):
        if name.startswith("FENGQIAO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FENGQIAO_PSEUDONYM_KEY", TEST_KEY.decode())
    monkeypatch.chdir(tmp_path)
    return Settings(home=tmp_path / "home")


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


POSTGRES_URL = os.environ.get(
    "FENGQIAO_TEST_POSTGRES_URL", "postgresql+psycopg://fengqiao:fengqiao@127.0.0.1:5432/fengqiao_test"
)


def empty_postgres() -> str:
    """The test PostgreSQL database with an empty schema, or a skip saying why there is none."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    except Exception as error:  # no driver, no server, no database: the SQLite runs still cover the logic
        pytest.skip(
            f"no PostgreSQL test database at {POSTGRES_URL} ({type(error).__name__}); .ci/run starts one"
        )
    return POSTGRES_URL
