"""A store inspects its input tables' indexes once per index version, recorded in `store_meta`, and
creates the missing ones when that record is absent or older."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, text

from tests.builders import STORE_BACKENDS, call_row, case_row, empty_postgres, make_sources, store_sources
from warehouse import store, tables
from warehouse.call_links import add_call_links, read_call_links, stored_link_days
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


@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_an_older_stores_call_links_gain_their_calls_district_and_are_read_by_part(
    tmp_path: Path, backend: str
) -> None:
    """A store written before call links kept their district (the column, its index and this version's
    record absent) gets them on opening, each stored link its call's district; a part then reads its
    own links and days by it, and a link stored again replaces the one before."""
    url = empty_postgres() if backend == "postgresql" else f"sqlite:///{tmp_path / 'store.db'}"
    warehouse = Warehouse(url)
    store_sources(
        warehouse,
        make_sources(
            [case_row("K1", "2025-03-01"), case_row("K2", "2025-03-01", district="江北区")],
            [],
            [call_row("C1", "2025-03-01"), call_row("C2", "2025-03-01", district="江北区")],
        ),
    )
    with warehouse.engine.begin() as connection:  # the table as an earlier version left it
        connection.execute(text("DROP INDEX ix_call_links_district_as_of"))
        connection.execute(text("ALTER TABLE call_links DROP COLUMN district"))
        for call, case in (("C1", "K1"), ("C2", "K2")):
            connection.execute(
                text(
                    "INSERT INTO call_links (as_of, call_id, case_id, confidence, threshold, evidence,"
                    f" digest) VALUES ('2025-03-02', '{call}', '{case}', 0.9, 0.5, 'e', 'd')"
                )
            )
        write_meta(connection, INPUT_INDEXES, "an-earlier-version")
    warehouse.engine.dispose()
    reopened = Warehouse(url)
    with reopened.engine.connect() as connection:
        names = {i["name"] for i in inspect(connection).get_indexes("call_links")}
    assert "ix_call_links_district_as_of" in names
    day = date(2025, 3, 2)
    assert read_call_links(reopened, day, day)["district"].tolist() == ["东湖区", "江北区"]
    by_district = {
        district: read_call_links(reopened, day, day, [district])["call_id"].tolist()
        for district in ("东湖区", "江北区", "西山区")
    }
    assert by_district == {"东湖区": ["C1"], "江北区": ["C2"], "西山区": []}
    assert stored_link_days(reopened, day, day, ["东湖区"]) == {day}
    assert stored_link_days(reopened, day, day, ["东湖区", "西山区"]) == set()  # 西山区 has none
    assert stored_link_days(reopened, day, day) == {day}
    again = read_call_links(reopened, day, day, ["江北区"]).assign(case_id="K1", district="东湖区")
    with reopened.transaction() as connection:
        add_call_links(connection, again)  # the call moved to another district: decided again
    stored = read_call_links(reopened, day, day)
    assert stored.sort_values("call_id")[["call_id", "case_id", "district"]].values.tolist() == [
        ["C1", "K1", "东湖区"],
        ["C2", "K1", "东湖区"],
    ]
