"""Secondary indexes of SQLite tables filled in bulk, built once at the end of the transaction.

Inserting a million rows into a table keeps each of its secondary indexes up to date row by row, which
costs SQLite far more than the rows themselves when an index's keys arrive in random order (a case
number, say). Within one transaction, a table that receives at least as many rows as it already holds
has its secondary indexes dropped before the next insert and rebuilt (from sorted keys, in one pass)
before the transaction commits (SQLite's sorter using a thread per core: the run's other work, and its
helper process, are done by then); SQLite's DDL is transactional, so a run that fails leaves the indexes
as they were. Primary keys and unique constraints are never touched: they keep checking every row.
PostgreSQL is left alone (dropping an index would lock out readers for the whole run).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from joblib import cpu_count as usable_cores  # the cores this process may use (affinity, cgroups)
from sqlalchemy import Connection, Table
from sqlalchemy.schema import DropIndex

BULK_MIN_ROWS = 50_000  # fewer rows in a run: indexes stay (rebuilding them would not pay)


@dataclass
class DeferredIndexes:
    """Which tables of one SQLite transaction have their secondary indexes dropped until `rebuild`."""

    connection: Connection
    min_rows: int = BULK_MIN_ROWS
    _held: dict[str, int] = field(default_factory=dict)  # rows a table held when first written in the run
    _added: dict[str, int] = field(default_factory=dict)  # rows written into it in the run so far
    _deferred: dict[str, Table] = field(default_factory=dict)

    def before_insert(self, table: Table, rows: int) -> None:
        """Called before `rows` rows go into `table`: drops its secondary indexes once the run's rows
        into it reach `min_rows` and the rows it held before the run."""
        if self.connection.dialect.name != "sqlite" or not secondary_indexes(table) or rows == 0:
            return
        name = table.name
        if name not in self._held:
            self._held[name] = _row_estimate(self.connection, table)
        self._added[name] = self._added.get(name, 0) + rows
        if name in self._deferred:
            self._drop(table)  # again: a file's rolled-back savepoint may have restored them
        elif self._added[name] >= max(self.min_rows, self._held[name]):
            self._deferred[name] = table
            self._drop(table)

    def rebuild(self) -> None:
        """Build the dropped indexes again (before the transaction commits), SQLite's sorter using as many
        threads as this process has cores (the run's other work is done by then: the second core would
        sit idle), then as many as before."""
        if not self._deferred:
            return
        before = int(self.connection.exec_driver_sql("PRAGMA threads").scalar() or 0)
        self.connection.exec_driver_sql(f"PRAGMA threads = {usable_cores()}")
        try:
            for table in self._deferred.values():
                for index in secondary_indexes(table):
                    index.create(self.connection, checkfirst=True)
        finally:
            self.connection.exec_driver_sql(f"PRAGMA threads = {before}")
        self._deferred.clear()

    def _drop(self, table: Table) -> None:
        for index in secondary_indexes(table):
            self.connection.execute(DropIndex(index, if_exists=True))


def secondary_indexes(table: Table) -> list[object]:
    """The table's non-unique indexes, in a fixed order (unique ones enforce something: they stay)."""
    return sorted((i for i in table.indexes if not i.unique), key=lambda i: str(i.name))


def _row_estimate(connection: Connection, table: Table) -> int:
    """About how many rows a table holds (its largest rowid: read from the end of its B-tree, not counted)."""
    found = connection.exec_driver_sql(f'SELECT max(rowid) FROM "{table.name}"').scalar()
    return int(found or 0)
