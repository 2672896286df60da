"""Bulk appends (a prepared statement on SQLite, COPY on PostgreSQL) store every value as written and
fail like any other statement."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.exc import IntegrityError

from tests.builders import STORE_BACKENDS, empty_postgres
from warehouse import tables
from warehouse.store import Warehouse, append


@pytest.fixture(params=STORE_BACKENDS)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    if request.param == "postgresql":
        return Warehouse(empty_postgres())
    return Warehouse(f"sqlite:///{tmp_path / 'store.db'}")


ROWS = pd.DataFrame(
    {
        "case_id": ["A", "B\tb", "C\\n"],
        "opened_at": pd.to_datetime(
            ["2025-01-01 09:00:00.000001", "2025-01-02", "2025-01-03 23:59:59"], format="ISO8601"
        ),
        "district": ["东湖区", "江北区", "line\nbreak"],
        "category": ["其他", "邻里纠纷", '"quoted", comma'],
        "description": [None, "", "文字"],
        "party_count": pd.array([3, None, 0], dtype="Int64"),
        "amount": [1.5, float("nan"), 1e15],
        "known_at": pd.to_datetime(["2025-01-01 09:00", "2025-01-02", "2025-01-03"], format="ISO8601"),
        "record_key": ["A", "B\tb", "C\\n"],
        "row_hash": ["0" * 16, "1" * 16, "2" * 16],
        "source_file": ["cases.csv"] * 3,
        "ingested_at": pd.Timestamp("2026-12-05 10:00:00"),
    }
)


def test_every_value_is_stored_as_written(warehouse: Warehouse) -> None:
    with warehouse.transaction() as connection:
        append(connection, tables.cases, ROWS)
    stored = warehouse.read_table(tables.cases).sort_values("record_key", ignore_index=True)
    assert stored["case_id"].tolist() == ["A", "B\tb", "C\\n"]
    assert stored["district"].tolist() == ["东湖区", "江北区", "line\nbreak"]
    assert stored["category"].tolist() == ["其他", "邻里纠纷", '"quoted", comma']
    assert [None if pd.isna(v) else v for v in stored["description"]] == [None, "", "文字"]
    assert [None if pd.isna(v) else int(v) for v in stored["party_count"]] == [3, None, 0]
    assert [None if pd.isna(v) else v for v in stored["amount"]] == [1.5, None, 1e15]
    assert stored["opened_at"].tolist() == ROWS["opened_at"].tolist()
    assert stored["known_at"].tolist() == ROWS["known_at"].tolist()
    assert stored["town"].isna().all()


def test_a_failed_append_raises_the_stores_error_and_writes_nothing(warehouse: Warehouse) -> None:
    broken = ROWS.assign(district=["东湖区", None, "江北区"])
    with pytest.raises(IntegrityError), warehouse.transaction() as connection:
        append(connection, tables.cases, broken)
    assert warehouse.read_table(tables.cases).empty


def test_only_a_test_marked_postgres_may_empty_the_shared_database() -> None:
    with pytest.raises(pytest.UsageError, match="marked `postgres`"):
        empty_postgres()
