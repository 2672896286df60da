"""Where the dashboard reads from: a read-only connection to the store, and the home folder's files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine, create_engine, event

from contracts.settings import Settings

if TYPE_CHECKING:
    from models.registry import Registry

SQLITE_PREFIX = "sqlite:///"


def _read_only_pragmas(dbapi_connection: Any, _record: object) -> None:
    """Wait for a writer's brief locks instead of failing, and refuse any write on this connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA query_only=1")
    cursor.close()


def read_only_engine(url: str) -> Engine:
    """An engine that can only read: for SQLite the file is opened with mode=ro (WAL readers never block
    the daily run's writer, nor it them); other databases get a plain engine."""
    if not url.startswith(SQLITE_PREFIX):
        return create_engine(url, pool_pre_ping=True)
    path = Path(url.removeprefix(SQLITE_PREFIX)).resolve()
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    event.listen(engine, "connect", _read_only_pragmas)
    return engine


@dataclass(frozen=True)
class DataSource:
    """The settings and a read-only engine: everything queries need."""

    settings: Settings
    engine: Engine

    def read(self, query: Any, dates: tuple[str, ...] = ()) -> pd.DataFrame:
        """Rows of a query as a frame, with the named columns parsed as datetimes."""
        with self.engine.connect() as connection:
            frame = pd.read_sql(query, connection)
        for column in dates:
            frame[column] = pd.to_datetime(frame[column], format="ISO8601")
        return frame

    def registry(self) -> Registry:
        """The MLflow registry of the settings; MLflow is imported only here, when a page needs the model."""
        from models.registry import Registry

        return Registry.of(self.settings)


def store_exists(settings: Settings) -> bool:
    """Whether there is a store to read (an embedded SQLite file that exists, or any other URL)."""
    url = settings.warehouse_url
    return not url.startswith(SQLITE_PREFIX) or Path(url.removeprefix(SQLITE_PREFIX)).exists()


def open_source(settings: Settings) -> DataSource:
    """The read-only data source for the settings."""
    return DataSource(settings, read_only_engine(settings.warehouse_url))
