"""A new Prefect home's database copied from a migrated one kept in the private cache
(pipelines.prefect_database)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import prefect_database


def stamped(path: Path, version: str | None = "abc123") -> Path:
    """A SQLite file with an alembic_version table (empty when version is None)."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
        if version is not None:
            connection.execute("INSERT INTO alembic_version VALUES (?)", (version,))
        connection.commit()
    return path


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Prefect's database file (not made yet) and the kept database's place."""
    target, kept = tmp_path / "home" / "prefect.db", tmp_path / "kept.sqlite"
    monkeypatch.setattr(prefect_database, "sqlite_file", lambda: target)
    monkeypatch.setattr(prefect_database, "kept_database", lambda: kept)
    return target, kept


def test_the_kept_database_is_copied_to_a_new_home_only(paths: tuple[Path, Path]) -> None:
    target, kept = paths
    assert not prefect_database.place_kept_database()  # nothing kept yet
    stamped(kept)
    assert prefect_database.place_kept_database()
    assert target.read_bytes() == kept.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["prefect.db"]  # no temporary file left
    target.write_bytes(b"the home's own database")
    assert not prefect_database.place_kept_database()  # never over an existing database
    assert target.read_bytes() == b"the home's own database"


def test_a_kept_file_that_is_no_migrated_database_is_not_copied(paths: tuple[Path, Path]) -> None:
    target, kept = paths
    stamped(kept, version=None)
    assert not prefect_database.place_kept_database()
    kept.write_bytes(b"not a database")
    assert not prefect_database.place_kept_database() and not target.exists()


def test_without_a_cache_folder_or_with_migrations_off_nothing_is_copied(
    paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_DATABASE_MIGRATE_ON_START, temporary_settings

    target, kept = paths
    stamped(kept)
    with temporary_settings(updates={PREFECT_API_DATABASE_MIGRATE_ON_START: False}):
        assert not prefect_database.place_kept_database()
        prefect_database.prepare_database()  # nor migrated here
    assert not target.exists()

    def no_folder() -> Path:
        raise PermissionError("not a folder of this account")

    monkeypatch.setattr(prefect_database, "kept_database", no_folder)
    assert not prefect_database.place_kept_database() and not target.exists()


def test_only_a_sqlite_file_database_is_prepared() -> None:
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, temporary_settings

    cases = {
        "sqlite+aiosqlite:////srv/prefect/prefect.db": Path("/srv/prefect/prefect.db"),
        "sqlite+aiosqlite:///:memory:": None,
        "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true": None,
        "postgresql+asyncpg://prefect:secret@db:5432/prefect": None,
    }
    for url, expected in cases.items():
        with temporary_settings(updates={PREFECT_API_DATABASE_CONNECTION_URL: url}):
            assert prefect_database.sqlite_file() == expected, url


@pytest.mark.slow
def test_the_first_server_start_migrates_and_keeps_the_next_copies(tmp_path: Path) -> None:
    """In fresh processes as the shared server runs it: the first new home is migrated by Prefect and kept,
    a second new home gets the kept copy, stamped with the same migration."""
    script = (
        "from pipelines.prefect_database import kept_database, prepare_database, sqlite_file\n"
        "prepare_database()\n"
        "print(sqlite_file(), kept_database())\n"
    )

    def run(home: str) -> tuple[Path, Path]:
        environment = {
            **os.environ,
            "PREFECT_HOME": str(tmp_path / home),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        }
        environment.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=environment
        )
        target, kept = done.stdout.split()
        return Path(target), Path(kept)

    def version(path: Path) -> str:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]

    first, kept = run("first")
    assert first == tmp_path / "first" / "prefect.db" and kept.parent == tmp_path / "cache" / "fengqiao"
    assert version(first) == version(kept)
    with contextlib.closing(sqlite3.connect(kept)) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"flow", "flow_run", "task_run", "deployment"} <= tables
        assert connection.execute("SELECT count(*) FROM flow_run").fetchone() == (0,)
    second, _ = run("second")
    assert second.read_bytes() == kept.read_bytes()
