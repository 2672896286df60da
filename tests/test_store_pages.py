"""A new SQLite store is made with the bulk-friendly page size; a store made before keeps its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_store_append import ROWS
from warehouse import tables
from warehouse.store import SQLITE_PAGE_SIZE, Warehouse, append


def page_size(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_store_gets_the_bulk_page_size(tmp_path: Path) -> None:
    Warehouse(f"sqlite:///{tmp_path / 'store.db'}").engine.dispose()
    assert SQLITE_PAGE_SIZE == 16_384
    assert page_size(tmp_path / "store.db") == SQLITE_PAGE_SIZE


def test_a_store_made_with_other_pages_keeps_them_and_works(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA page_size=4096")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE older (x)")
    warehouse = Warehouse(f"sqlite:///{database}")
    with warehouse.transaction() as connection:
        append(connection, tables.cases, ROWS)
    assert len(warehouse.read_table(tables.cases)) == len(ROWS)
    warehouse.engine.dispose()
    assert page_size(database) == 4096
