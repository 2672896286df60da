"""A process that opens the store again keeps the SQLite locks its open connections hold: another
process's last connection must not fold the WAL back and remove it under them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from tests.test_store_append import ROWS
from warehouse import tables
from warehouse.store import Warehouse, append, reading

# Another process writes to the store and closes its connection (the last one it has).
OTHER_PROCESS = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA journal_mode=WAL")
connection.execute("CREATE TABLE IF NOT EXISTS elsewhere (x)")
connection.execute("INSERT INTO elsewhere VALUES (1)")
connection.close()
"""


def test_a_second_engine_keeps_the_locks_of_the_first_and_the_wal_stays(tmp_path: Path) -> None:
    database = tmp_path / "store.db"
    url = f"sqlite:///{database}"
    first = Warehouse(url)
    with first.transaction() as connection:
        append(connection, tables.cases, ROWS)
    with reading(first.engine) as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == len(ROWS)
        Warehouse(url)  # a later step of the same process opens the store again
        subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(database)], check=True)
        assert database.with_name("store.db-wal").exists()  # this process still reads from it
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == len(ROWS)
    assert len(Warehouse(url).read_table(tables.cases)) == len(ROWS)
