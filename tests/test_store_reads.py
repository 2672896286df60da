"""Reads of a SQLite store take no lock: a part reading its rows for minutes never holds up the run that
stores another part's results (the province's call links failed with "database is locked" when every
read began its transaction as a writer), and reads see the store as it was when they began."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import func, select

from contracts.vocabulary import RecordKind
from tests.test_store_append import ROWS
from warehouse import tables
from warehouse.store import Warehouse, append, reading

BUSY_SECONDS = 30  # the store's busy timeout: a write held up by a read would wait this long, then fail


def test_a_long_read_holds_up_neither_a_write_nor_another_read(tmp_path: Path) -> None:
    store = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    with store.transaction() as connection:
        append(connection, tables.cases, ROWS.iloc[:1])
    count = select(func.count()).select_from(tables.cases)
    with reading(store.engine) as long_read:
        assert long_read.execute(count).scalar() == 1  # its transaction is open from here
        began = time.perf_counter()
        with store.transaction() as connection:  # a writer while the read is open
            append(connection, tables.cases, ROWS.iloc[1:])
        assert time.perf_counter() - began < BUSY_SECONDS / 3
        assert len(store.read_records(RecordKind.CASES)) == 3  # another read, after the write
        assert long_read.execute(count).scalar() == 1  # the long read still sees its snapshot
    assert len(store.read_records(RecordKind.CASES)) == len(ROWS)


def _write_lock_free(path: Path) -> bool:
    """Whether another connection could begin writing at once (no busy wait)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_a_read_takes_no_lock_and_a_transaction_takes_the_write_lock_when_it_begins(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = Warehouse(f"sqlite:///{path}")
    with reading(store.engine) as connection:
        connection.execute(select(1))
        assert connection.in_transaction()
        assert _write_lock_free(path)
    with store.transaction():  # nothing written yet: the lock is taken by BEGIN IMMEDIATE itself
        assert not _write_lock_free(path)
    assert _write_lock_free(path)
