"""A store inspects its input tables' indexes once per index version, recorded in `store_meta`, and
creates the missing ones when that record is absent or older."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, text

from warehouse import store, tables
from warehouse.store import (
    INPUT_INDEXES,
    Warehouse,
    index_version,
    input_index_version,
    read_meta,
    write_meta,
)


def index_names(connection: Connection) -> set[str]:
    return {i["name"] for t in tables.INPUT_TABLES.values() for i in inspect(connection).get_indexes(t.name)}


@pytest.fixture
def inspections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The input-index inspections made from now on (one entry each)."""
    made: list[str] = []
    real = store.inspect

    def counted(subject: object) -> object:
        made.append("inspect")
        return real(subject)

    monkeypatch.setattr(store, "inspect", counted)
    return made


def test_a_store_opened_twice_inspects_its_indexes_once(tmp_path: Path, inspections: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Warehouse(url).engine.dispose()
    assert len(inspections) == 1
    warehouse = Warehouse(url)
    assert len(inspections) == 1
    with warehouse.engine.connect() as connection:
        assert read_meta(connection, INPUT_INDEXES) == input_index_version()


@pytest.mark.parametrize("recorded", [None, "an-earlier-version"])
def test_a_store_without_this_versions_record_gets_its_missing_indexes(
    tmp_path: Path, recorded: str | None
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    warehouse = Warehouse(url)
    with warehouse.engine.begin() as connection:
        wanted = index_names(connection)
        connection.execute(text("DROP INDEX ix_cases_known_at"))
        connection.execute(text("DROP INDEX ix_hotline_case_id"))
        connection.execute(tables.store_meta.delete())
        if recorded is not None:
            write_meta(connection, INPUT_INDEXES, recorded)
    warehouse.engine.dispose()
    reopened = Warehouse(url)
    with reopened.engine.connect() as connection:
        assert index_names(connection) == wanted
        assert {"ix_cases_known_at", "ix_hotline_case_id"} <= wanted
        assert read_meta(connection, INPUT_INDEXES) == input_index_version()


def test_a_store_recording_this_version_is_trusted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    warehouse = Warehouse(url)
    with warehouse.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_cases_known_at"))
    warehouse.engine.dispose()
    with Warehouse(url).engine.connect() as connection:
        assert "ix_cases_known_at" not in index_names(connection)


def test_the_index_version_follows_the_index_definitions() -> None:
    def table(*indexed: str, unique: bool = False) -> Table:
        columns = [Column(name, String, index=name in indexed, unique=unique) for name in ("a", "b")]
        return Table("t", MetaData(), *columns)

    versions = {index_version([table("a")]), index_version([table("b")]), index_version([table("a", "b")])}
    assert len(versions | {index_version([table("a", unique=True)])}) == 4
    assert index_version([table("a")]) == index_version([table("a")])
