"""A new Prefect home's SQLite database copied from a migrated, empty one kept in the private cache, instead
of migrated from nothing at its local server's first start (Prefect's migrations: about 7 s of that start's
11-12 s on 2 cores; the copy takes milliseconds). The kept copy is made once per account and Prefect
version, by the first shared local server that migrates a new database, right after its migrations and
before it serves anything. Prefect's own start still checks the copy against its migrations.
docs/design/prefect-database.md says more."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from contracts.private_cache import private_cache
from warehouse.atomic_files import temporary_path

log = logging.getLogger(__name__)


def sqlite_file() -> Path | None:
    """The file of Prefect's server database by Prefect's settings; None unless it is a SQLite file."""
    from prefect.settings import get_current_settings
    from sqlalchemy.engine import make_url

    url = get_current_settings().server.database.connection_url
    if url is None:
        return None
    parsed = make_url(url.get_secret_value())
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def kept_database() -> Path:
    """Where the migrated, empty database of the installed Prefect is kept."""
    from importlib.metadata import version

    return private_cache() / f"prefect-{version('prefect')}-migrated-database.sqlite"


def place_kept_database() -> bool:
    """Copy the kept database to Prefect's database file when that file is not there yet (never over one);
    True when copied."""
    target = _new_database()
    return target is not None and _placed(target)


def prepare_database() -> None:
    """Before a local server starts: copy the kept database to Prefect's new one; without a kept one,
    migrate Prefect's new database here and keep a copy of it."""
    target = _new_database()
    if target is None or _placed(target):
        return
    asyncio.run(_migrate())
    try:
        _keep(target, kept_database())
    except (OSError, sqlite3.Error) as error:  # the server starts all the same
        log.warning("Prefect's migrated database could not be kept (%s)", error)


def _new_database() -> Path | None:
    """Prefect's database file when it is a SQLite file not made yet, which Prefect migrates as its server
    starts; else None (left to Prefect)."""
    target = sqlite_file()
    if target is None or target.exists() or not _migrations_on_start():
        return None
    return target


def _placed(target: Path) -> bool:
    """Whether the kept database was copied to `target` (never over a file another process made)."""
    try:
        kept = kept_database()
        if not _migrated(kept):
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_path(target)
        try:
            with open(temporary, "xb") as out:  # the permissions Prefect's own new file would get
                out.write(kept.read_bytes())
            os.link(temporary, target)  # fails if another process made the file meanwhile: theirs is kept
        finally:
            temporary.unlink(missing_ok=True)
        return True
    except FileExistsError:
        return False
    except OSError as error:  # no cache folder, no hard links, a full disk: Prefect migrates its own
        log.warning("Prefect's kept database could not be copied to %s (%s)", target, error)
        return False


def _migrations_on_start() -> bool:
    """Whether Prefect's server migrates its database as it starts (PREFECT_API_DATABASE_MIGRATE_ON_START):
    when it does not, its database is left alone here too."""
    from prefect.settings import get_current_settings

    return bool(get_current_settings().server.database.migrate_on_start)


async def _migrate() -> None:
    """Prefect's migrations on its configured database, as its server's start runs them; its engine closed."""
    from prefect.server.database import provide_database_interface

    database = provide_database_interface()
    await database.create_db()
    await (await database.engine()).dispose()


def _keep(database: Path, kept: Path) -> None:
    """A compact copy of the database, written whole to `kept`."""
    temporary = temporary_path(kept)
    temporary.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(database)) as connection:
            connection.execute("VACUUM INTO ?", (str(temporary),))
        os.replace(temporary, kept)
    finally:
        temporary.unlink(missing_ok=True)


def _migrated(kept: Path) -> bool:
    """Whether `kept` is a readable, intact SQLite database that Prefect's migrations have stamped."""
    if not kept.is_file():
        return False
    read_only = f"{kept.resolve().as_uri()}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(read_only, uri=True)) as connection:
            intact = connection.execute("PRAGMA quick_check").fetchone() == ("ok",)
            return (
                intact
                and connection.execute("SELECT version_num FROM alembic_version").fetchone() is not None
            )
    except sqlite3.Error:
        return False
