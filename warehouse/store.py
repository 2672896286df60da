"""The store behind one small interface: SQLite (WAL) under the home folder, or any SQLAlchemy URL."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import stat
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Select,
    String,
    Table,
    cast,
    create_engine,
    delete,
    event,
    func,
    inspect,
    literal_column,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError

from contracts.timeparse import local_now
from contracts.vocabulary import RecordKind
from warehouse import dashboard_tables, tables

_CHUNK = 5000  # values per IN (...) query; SQLite allows 32,766 parameters since 3.32
# Every module that defines tables on the shared metadata, so that `Warehouse` creates them all.
TABLE_MODULES = (tables, dashboard_tables)
# The `store_meta` name under which a store records that its input tables have these indexes.
INPUT_INDEXES = "input_indexes_version"


# The page size of a new SQLite store (an existing one keeps its own): a bulk load of a million calls
# costs SQLite about a quarter less CPU than with the default 4 KiB (fewer pages to split, spill, scan
# for index builds and checkpoint; docs/architecture.md).
SQLITE_PAGE_SIZE = 16_384


def _sqlite_connect(dbapi_connection: object, _record: object) -> None:
    """WAL lets readers work while a run writes; transactions are begun explicitly (so SAVEPOINTs work).
    A new, empty database gets SQLITE_PAGE_SIZE (the pragma changes nothing once a database has pages)."""
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The execution option of connections that only read (`reading`).
READ_ONLY = "fengqiao_read_only"


def _sqlite_begin(connection: Connection) -> None:
    """A transaction that writes takes the write lock when it begins (no deadlock upgrading a read lock
    later); one that only reads (`reading`) is deferred: in WAL mode a snapshot that takes no lock, so a
    long read never holds up a writer or another reader."""
    deferred = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only (on SQLite its transactions take no lock: `_sqlite_begin`)."""
    with engine.connect() as connection:
        yield connection.execution_options(**{READ_ONLY: True})


PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other backends and in-memory databases)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def make_private(path: Path) -> None:
    """Make a SQLite database and its side files (WAL, shared memory, journal) readable by the owner only
    (a file already so is left untouched: its status-change time is part of `pipelines.champions`'
    registry state)."""
    for name in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(name.stat().st_mode) != PRIVATE_FILE:
                name.chmod(PRIVATE_FILE)


def _create_private(path: Path) -> None:
    """Create the folder (owner only, if new) and an empty database file readable by the owner only, so
    SQLite, which gives its WAL and shared-memory files the database file's mode, never writes one that
    others can read. An existing file is never opened here: closing any descriptor of a database drops
    every POSIX lock this process's connections hold on it (SQLite's howtocorrupt 2.2.1), and another
    process's last connection may then fold the WAL back and truncate it under theirs."""
    path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process: no lock of ours
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    make_private(path)


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()  # every engine this process made, for dispose_engines


def make_engine(url: str) -> Engine:
    """An engine for the store URL; for SQLite the file is made private and WAL switched on."""
    if (path := sqlite_path(url)) is not None:
        _create_private(path)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _ENGINES.add(engine)
    return engine


def dispose_engines() -> None:
    """Close the pooled connections of every store engine of this process (SQLite's last connection folds
    its WAL file back into the database and removes it), as a process ends."""
    for engine in list(_ENGINES):
        engine.dispose()


def typed_frame(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Columns read back from the store in pandas types (datetimes parsed, whatever the backend)."""
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        if isinstance(column.type, DateTime):
            frame[column.name] = pd.to_datetime(frame[column.name], format="ISO8601").astype("datetime64[us]")
        elif isinstance(column.type, Date):
            frame[column.name] = pd.to_datetime(frame[column.name]).dt.date
    return frame


READ_CHUNK_ROWS = 100_000  # rows per fetch when reading records
# Fetched columns' pandas types, the same for every chunk: integers nullable, floats with NaN for missing,
# text as `str` (Text is a String).
_FETCHED = ((Integer, "Int64"), (Float, "float64"), (String, "str"))


def storage_order(dialect: str) -> ColumnElement:
    """The order a table's rows are stored in, which a full read (a table scan) returns them in: SQLite's
    rowid, PostgreSQL's tuple address (ctid)."""
    return literal_column("ctid" if dialect == "postgresql" else "rowid")


def _raw_column(column: Column, dialect: str) -> ColumnElement:
    """A column to select: SQLite datetimes as their ISO text (parsed in bulk by `typed_frame` instead of
    one Python datetime per value)."""
    if dialect == "sqlite" and isinstance(column.type, DateTime):
        return type_coerce(column, String).label(column.name)
    return column


def fetched_rows(
    connection: Connection, query: Select, chunk_rows: int
) -> Iterator[list[tuple[object, ...]]]:
    """The query's rows, `chunk_rows` at a time, as plain tuples, only one chunk held at a time. On SQLite
    they are fetched from the driver's cursor itself: SQLAlchemy's row objects, and the tuples made of
    them, cost more than the read (a third of reading the store); elsewhere through a server-side cursor
    (`yield_per`)."""
    if connection.dialect.name != "sqlite":
        result = connection.execute(query.execution_options(yield_per=chunk_rows))
        for rows in result.partitions():
            yield [tuple(row) for row in rows]
        return
    result = connection.execute(query)
    error_type = connection.dialect.loaded_dbapi.Error
    try:
        while rows := result.cursor.fetchmany(chunk_rows):
            yield rows
    except error_type as error:
        statement = str(query.compile(dialect=connection.dialect))
        raise DBAPIError.instance(statement, None, error, error_type) from error
    finally:
        result.close()


def rows_frame(rows: Sequence[tuple[object, ...]], names: Sequence[str]) -> pd.DataFrame:
    """Fetched rows (plain tuples, `fetched_rows`) as a frame of those columns."""
    return pd.DataFrame(rows, columns=list(names))


def _typed_chunk(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Fetched rows in the same pandas types whatever a chunk holds (an all-missing chunk included)."""
    for column in table.columns:
        dtype = next((d for kind, d in _FETCHED if isinstance(column.type, kind)), None)
        if column.name in frame.columns and dtype is not None:
            frame[column.name] = frame[column.name].astype(dtype)
    return typed_frame(frame, table)


# How a missing value is handed to sqlite3: a float NaN is bound as a double without the adaptation
# lookup sqlite3 makes for None, and SQLite stores a NaN double as NULL (checked in tests/test_ingest.py).
_SQLITE_NULL = float("nan")
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


def _sqlite_datetimes(values: pd.Series) -> pd.Series:
    """Datetimes as SQLite stores them (ISO text with microseconds), formatted by pyarrow where it can."""
    if values.dtype == "datetime64[us]":
        return pd.Series(pc.cast(pa.array(values), pa.string()), index=values.index, dtype="str")
    return values.dt.strftime(_SQLITE_DATETIME)


def _db_values(values: pd.Series, column_type: object, sqlite: bool) -> list[object]:
    """A column as DB-API values: NULL for missing, ISO text for SQLite datetimes, plain Python scalars."""
    null = _SQLITE_NULL if sqlite else None
    if isinstance(column_type, DateTime) and pd.api.types.is_datetime64_any_dtype(values):
        if sqlite:
            return _text_values(_sqlite_datetimes(values), null)
        return [None if pd.isna(v) else v.to_pydatetime() for v in values]
    if isinstance(column_type, Date) and sqlite:
        return [null if v is None or pd.isna(v) else v.isoformat() for v in values]
    if isinstance(values.dtype, pd.StringDtype):
        return _text_values(values, null)
    plain = values.astype(object)
    return plain.where(values.notna(), null).tolist()


# A text column whose first rows hold at most 1 distinct value in this many is converted per distinct value.
_FEW_SAMPLE, _FEW_SHARE = 1_000, 20


def _text_values(values: pd.Series, null: object) -> list[object]:
    """A str column as Python strings. A column of few distinct values (a district, a file name, a run's
    time) gets one string object per value, made once instead of once a cell, which also spares the
    driver encoding each cell again."""
    sample = values.iloc[:_FEW_SAMPLE]
    if len(values) > _FEW_SAMPLE and sample.nunique(dropna=False) * _FEW_SHARE <= len(sample):
        codes, uniques = pd.factorize(values)  # missing: code -1, the last entry below
        lookup = np.append(np.asarray(uniques, dtype=object), np.array([null], dtype=object))
        return lookup[codes].tolist()
    return values.to_numpy(dtype=object, na_value=null).tolist()


def append(connection: Connection, table: Table, frame: pd.DataFrame) -> None:
    """Insert a frame's rows into a table in bulk (columns not in the table are ignored): one prepared
    statement over plain tuples on SQLite, COPY on PostgreSQL through psycopg 3."""
    if frame.empty:
        return
    columns = [c for c in table.columns if c.name in frame.columns]
    sqlite = connection.dialect.name == "sqlite"
    series = [_db_values(frame[c.name], c.type, sqlite) for c in columns]
    names = ", ".join(f'"{c.name}"' for c in columns)
    if sqlite:
        placeholders = ", ".join("?" for _ in columns)
        statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})'
        _insert_rows(connection, statement, zip(*series, strict=True))
    elif connection.dialect.driver == "psycopg":
        _copy_rows(connection, f'COPY "{table.name}" ({names}) FROM STDIN', zip(*series, strict=True))
    else:
        rows = [
            dict(zip([c.name for c in columns], values, strict=True)) for values in zip(*series, strict=True)
        ]
        connection.execute(table.insert(), rows)


def _insert_rows(connection: Connection, statement: str, rows: Iterable[tuple[object, ...]]) -> None:
    """Rows inserted by one prepared SQLite statement, each row's tuple made only as the driver takes it
    (a list of them all would keep the garbage collector scanning); a failure raised as SQLAlchemy's error
    for it, like any other statement's."""
    driver = connection.connection.driver_connection
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, rows)
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(statement, None, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


def _copy_rows(connection: Connection, statement: str, rows: Iterable[tuple[object, ...]]) -> None:
    """Rows streamed into PostgreSQL with COPY on the connection's own transaction (psycopg 3); a failure
    raised as SQLAlchemy's error for it, like any other statement's."""
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(statement, None, error, connection.dialect.loaded_dbapi.Error) from error


def _select_in(
    connection: Connection, table: Table, columns: tuple[str, ...], column: str, values: Iterable[str]
) -> list[tuple[object, ...]]:
    """Rows (of the given columns) whose `column` is among the values, in batched IN queries.

    On SQLite the statement goes to the driver directly: rendering an expanding IN of thousands of
    values through SQLAlchemy costs more than running it.
    """
    found: list[tuple[object, ...]] = []
    names = ", ".join(f'"{c}"' for c in columns)
    values = values.tolist() if isinstance(values, pd.Series) else values
    for chunk in id_chunks(list(dict.fromkeys(values))):
        if connection.dialect.name == "sqlite":
            sql = f'SELECT {names} FROM "{table.name}" WHERE "{column}" IN ({_marks(len(chunk))})'
            found.extend(tuple(row) for row in connection.exec_driver_sql(sql, tuple(chunk)))
        else:
            query = select(*(table.c[c] for c in columns)).where(table.c[column].in_(chunk))
            found.extend(tuple(row) for row in connection.execute(query))
    return found


@lru_cache(maxsize=8)
def _marks(count: int) -> str:
    """`count` SQL parameter marks ("?, ?, ..."), made once per count (a full batch's is 5,000 long)."""
    return ", ".join(["?"] * count)


def id_chunks(values: list[str]) -> Iterator[list[str]]:
    """The values cut into lists of at most `_CHUNK` (one IN (...) query each)."""
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def read_meta(connection: Connection, name: str) -> str | None:
    """A stored fact about the store, or None if it was never recorded."""
    query = select(tables.store_meta.c.value).where(tables.store_meta.c.name == name)
    return connection.execute(query).scalar_one_or_none()


def write_meta(connection: Connection, name: str, value: str) -> None:
    """Record (or replace) a fact about the store."""
    connection.execute(delete(tables.store_meta).where(tables.store_meta.c.name == name))
    connection.execute(tables.store_meta.insert().values(name=name, value=value, updated_at=local_now()))


def stored_keys(connection: Connection, kind: RecordKind) -> set[str]:
    """Every stored record key of one input kind."""
    return set(connection.execute(select(tables.INPUT_TABLES[kind].c.record_key)).scalars())


def forget_pseudonymised(connection: Connection) -> dict[str, int]:
    """Delete every stored row that carries a pseudonym: the records of the pseudonymised kinds (cases,
    calls), their earlier versions and their quarantine entries; how many rows of each table went. Events,
    held events, lists, feedback and accounts carry case numbers, not pseudonyms, and stay."""
    kinds = [kind.value for kind in tables.PSEUDONYMISED_KINDS]
    removed = {}
    for kind in tables.PSEUDONYMISED_KINDS:
        table = tables.INPUT_TABLES[kind]
        removed[table.name] = int(connection.execute(delete(table)).rowcount or 0)
    for table in (tables.record_history, tables.quarantine):
        result = connection.execute(delete(table).where(table.c.kind.in_(kinds)))
        removed[table.name] = int(result.rowcount or 0)
    return removed


def index_version(indexed: Iterable[Table]) -> str:
    """A fingerprint of the tables' index definitions (names, columns, uniqueness)."""
    described = sorted(
        f"{table.name}:{index.name}:{','.join(c.name for c in index.columns)}:{index.unique}"
        for table in indexed
        for index in table.indexes
    )
    return hashlib.sha256("\n".join(described).encode()).hexdigest()[:16]


# The tables whose indexes a store made by an earlier version may lack: the inputs, and the call links
# (which gained their district, and an index on it, later).
INDEXED_TABLES = (*tables.INPUT_TABLES.values(), tables.call_links)


def input_index_version() -> str:
    """The version of the indexed tables' indexes that a store records as present (`store_meta`,
    INPUT_INDEXES)."""
    return index_version(INDEXED_TABLES)


def _create_missing_indexes(connection: Connection) -> None:
    """Create the indexes of the indexed tables a store made by an earlier version lacks (`create_all`
    skips tables that exist, with their indexes), after the nullable columns they index."""
    if dashboard_tables.add_missing_columns(connection, [tables.call_links]):
        _fill_link_districts(connection)
    inspector = inspect(connection)
    present = {t: {i["name"] for i in inspector.get_indexes(t.name)} for t in INDEXED_TABLES}
    for table, names in present.items():
        for index in table.indexes:
            if index.name not in names:
                index.create(connection)


def _fill_link_districts(connection: Connection) -> None:
    """Give the call links an earlier version stored without a district their call's, once (a join the
    database plans; SQLite indexes the calls' ids for it by itself)."""
    links, calls = tables.call_links, tables.hotline
    joined = update(links).values(district=calls.c.district).where(calls.c.call_id == links.c.call_id)
    connection.execute(joined.where(links.c.district.is_(None)))


def _ensure_input_indexes(engine: Engine) -> None:
    """Inspect the indexed tables' indexes (and create missing ones) only if the store does not record
    already having this version's."""
    version = input_index_version()
    with engine.begin() as connection:
        if read_meta(connection, INPUT_INDEXES) == version:
            return
        _create_missing_indexes(connection)
        write_meta(connection, INPUT_INDEXES, version)


class Warehouse:
    """Read and write Fengqiao's tables; every write happens inside one transaction."""

    _bound: Connection | None = None  # set on the view `within()` yields

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        tables.metadata.create_all(self.engine)
        _ensure_input_indexes(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection whose writes commit together at the end, or not at all (inside `within()`: a
        savepoint of the enclosing transaction)."""
        if self._bound is not None:
            with self._bound.begin_nested():
                yield self._bound
            return
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def within(self) -> Iterator[Warehouse]:
        """The store seen through one open transaction: what is done through the view (transactions become
        savepoints, reads see its uncommitted writes) commits together at the end, or not at all."""
        if self._bound is not None:
            yield self
            return
        with self.engine.begin() as connection:
            view = copy.copy(self)
            view._bound = connection
            yield view

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        if self._bound is not None:
            yield self._bound
            return
        with reading(self.engine) as connection:
            yield connection

    def read_table(self, table: Table, where: object | None = None) -> pd.DataFrame:
        """A whole table (optionally filtered) as a frame in pandas types."""
        query = select(table) if where is None else select(table).where(where)
        with self._reading() as connection:
            frame = pd.read_sql(query, connection)
        return typed_frame(frame, table)

    def read_records(
        self,
        kind: RecordKind,
        columns: Sequence[str] | None = None,
        chunk_rows: int = READ_CHUNK_ROWS,
        where: ColumnElement[bool] | None = None,
    ) -> pd.DataFrame:
        """All stored records of one input kind (only the named columns, if given; only the rows matching
        `where`, filtered by the database, in the order a full read returns them), in pandas types: text
        as `str`, integers as `Int64`, floats as `float64`, datetimes parsed.

        Rows are fetched `chunk_rows` at a time (a server-side cursor on PostgreSQL) and each chunk is
        converted before the next is read, so only one chunk is ever held as Python objects.
        """
        table = tables.INPUT_TABLES[kind]
        names = [c.name for c in table.columns] if columns is None else list(columns)
        with self._reading() as connection:
            query = select(*(_raw_column(table.c[name], connection.dialect.name) for name in names))
            if where is not None:
                query = query.where(where).order_by(storage_order(connection.dialect.name))
            chunks = [
                _typed_chunk(rows_frame(rows, names), table)
                for rows in fetched_rows(connection, query, chunk_rows)
            ]
        if not chunks:
            return _typed_chunk(pd.DataFrame(columns=names), table)
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def rows_per(self, kind: RecordKind, column: str) -> pd.Series:
        """Stored records of one input kind per value of a column (counted by the database)."""
        table = tables.INPUT_TABLES[kind]
        query = select(table.c[column], func.count()).group_by(table.c[column])
        with self._reading() as connection:
            counts = {value: count for value, count in connection.execute(query)}
        return pd.Series(counts, dtype="int64")

    @staticmethod
    def hashes_of(connection: Connection, kind: RecordKind, keys: Iterable[str]) -> pd.Series:
        """Stored content hash per record key, for the keys that are stored (as `connection` sees them)."""
        table = tables.INPUT_TABLES[kind]
        rows = _select_in(connection, table, ("record_key", "row_hash"), "record_key", keys)
        return pd.Series(dict(rows), dtype="object")

    @staticmethod
    def stored_case_ids(connection: Connection, case_ids: Iterable[str]) -> set[str]:
        """Which of the given case ids are in the store (as seen by `connection`)."""
        return {row[0] for row in _select_in(connection, tables.cases, ("case_id",), "case_id", case_ids)}

    @staticmethod
    def open_quarantine_keys(connection: Connection, kind: RecordKind) -> set[str]:
        """Record keys with open quarantine entries of one kind (usually few)."""
        q = tables.quarantine.c
        query = select(q.record_key).where(
            q.released_at.is_(None), q.kind == kind.value, q.record_key.is_not(None)
        )
        return set(connection.execute(query).scalars())

    @staticmethod
    def read_rows(connection: Connection, table: Table, column: str, values: Iterable[str]) -> pd.DataFrame:
        """Rows of a table whose column is among the values (as seen by `connection`), as stored: datetimes
        as pandas timestamps where they can be, else their stored text (a row stored before the plausible
        window existed may hold a year beyond pandas' range, and must still be readable to be replaced)."""
        columns = [
            cast(c, String).label(c.name) if isinstance(c.type, DateTime) else c for c in table.columns
        ]
        frames = [
            pd.read_sql(select(*columns).where(table.c[column].in_(chunk)), connection)
            for chunk in id_chunks(list(dict.fromkeys(values)))
        ]
        if not frames:
            return pd.DataFrame(columns=[c.name for c in table.columns])
        rows = pd.concat(frames, ignore_index=True)
        for stored in table.columns:
            if isinstance(stored.type, DateTime):
                text = rows[stored.name]
                parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
                rows[stored.name] = parsed.astype(object).where(parsed.notna(), text)
        return rows

    @staticmethod
    def delete_rows(connection: Connection, table: Table, column: str, values: Iterable[str]) -> None:
        """Delete the rows of a table whose column is among the values."""
        for chunk in id_chunks(list(dict.fromkeys(values))):
            connection.execute(delete(table).where(table.c[column].in_(chunk)))

    @staticmethod
    def release_quarantine(connection: Connection, where: object, run_id: str, now: pd.Timestamp) -> int:
        """Mark open quarantine entries matching a condition as released; how many were."""
        result = connection.execute(
            update(tables.quarantine)
            .where(tables.quarantine.c.released_at.is_(None), where)
            .values(released_at=now.to_pydatetime(), released_by_run=run_id)
        )
        return int(result.rowcount or 0)
