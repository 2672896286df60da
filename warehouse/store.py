"""The store behind one small interface: SQLite (WAL) under the home folder, or any SQLAlchemy URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Date, DateTime, Engine, Table, create_engine, delete, event, func, select

from contracts.vocabulary import RecordKind
from warehouse import tables

_DELETE_CHUNK = 500


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """WAL lets the dashboard read while a run writes; busy_timeout waits instead of failing."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the store URL; for SQLite the folder is created and WAL switched on."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _to_rows(frame: pd.DataFrame, table: Table) -> list[dict[str, object]]:
    """Frame rows as plain Python values (None for missing), restricted to the table's columns."""
    columns = [c.name for c in table.columns if c.name in frame.columns]
    subset = frame[columns].astype(object)
    return subset.where(subset.notna(), None).to_dict("records")


def _typed(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Columns read back from the store in pandas types (datetimes parsed, whatever the backend)."""
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        if isinstance(column.type, DateTime):
            frame[column.name] = pd.to_datetime(frame[column.name], format="ISO8601").astype("datetime64[us]")
        elif isinstance(column.type, Date):
            frame[column.name] = pd.to_datetime(frame[column.name]).dt.date
    return frame


class Warehouse:
    """Read and write Fengqiao's tables; every write happens inside one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        tables.metadata.create_all(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection whose writes commit together at the end, or not at all."""
        with self.engine.begin() as connection:
            yield connection

    def read_table(self, table: Table, where: object | None = None) -> pd.DataFrame:
        """A whole table (optionally filtered) as a frame in pandas types."""
        query = select(table) if where is None else select(table).where(where)
        with self.engine.connect() as connection:
            frame = pd.read_sql(query, connection)
        return _typed(frame, table)

    def read_records(self, kind: RecordKind) -> pd.DataFrame:
        """All stored records of one input kind."""
        return self.read_table(tables.INPUT_TABLES[kind])

    def existing_hashes(self, kind: RecordKind) -> pd.Series:
        """Content hash per stored record key of one input kind."""
        table = tables.INPUT_TABLES[kind]
        with self.engine.connect() as connection:
            frame = pd.read_sql(select(table.c.record_key, table.c.row_hash), connection)
        return frame.set_index("record_key")["row_hash"]

    def existing_case_ids(self) -> set[str]:
        """Case ids already in the store."""
        with self.engine.connect() as connection:
            return set(connection.execute(select(tables.cases.c.case_id)).scalars())

    @staticmethod
    def upsert_records(connection: Connection, kind: RecordKind, frame: pd.DataFrame) -> None:
        """Insert records, replacing stored ones with the same key."""
        table = tables.INPUT_TABLES[kind]
        keys = frame["record_key"].tolist()
        for start in range(0, len(keys), _DELETE_CHUNK):
            chunk = keys[start : start + _DELETE_CHUNK]
            connection.execute(delete(table).where(table.c.record_key.in_(chunk)))
        append(connection, table, frame)

    @staticmethod
    def replace_list(connection: Connection, as_of: date, frame: pd.DataFrame, manifest: str) -> None:
        """Replace the stored list and manifest of one as-of date."""
        connection.execute(delete(tables.lists).where(tables.lists.c.as_of == as_of))
        connection.execute(delete(tables.list_manifests).where(tables.list_manifests.c.as_of == as_of))
        append(connection, tables.lists, frame)
        append(
            connection,
            tables.list_manifests,
            pd.DataFrame({"as_of": [as_of], "manifest": [manifest], "published_at": [pd.Timestamp.now()]}),
        )

    def read_list(self, as_of: date) -> pd.DataFrame:
        """The stored list of one as-of date, best first."""
        frame = self.read_table(tables.lists, tables.lists.c.as_of == as_of)
        return frame.sort_values("rank", ignore_index=True)

    def latest_list_date(self) -> date | None:
        """The most recent as-of date with a published list."""
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(tables.lists.c.as_of))).scalar()
        return pd.Timestamp(value).date() if value is not None else None


def append(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert a frame's rows into a table."""
    rows = _to_rows(frame, table)
    if rows:
        connection.execute(table.insert(), rows)
